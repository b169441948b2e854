/**
 * The pruning variants as the CLI offers them: whatever is registered in @deprune/masks when asked
 * (a variant an embedder registers before calling `main` is listed and accepted like a built-in).
 * The registry loads in milliseconds, so `--help` and flag checks need not load the pruner.
 */
import { UsageError, closestName } from '@deprune/errors';
import { listVariants } from '@deprune/masks';

/** What prune and demo run without --variant: the full method. */
export const DEFAULT_VARIANT = 'deprune-bh';

export function variantNames(): string[] {
  return listVariants().map((variant) => variant.name);
}

/** `--help`'s list: each registered variant with its one-line description. */
export function variantsHelp(defaultVariant: string): string {
  const variants = listVariants();
  const width = Math.max(...variants.map((variant) => variant.name.length));
  const lines = variants.map((variant) => `  ${variant.name.padEnd(width)}  ${variant.description}`);
  return [`Variants (--variant; default ${defaultVariant}; registerVariant of @deprune/masks adds more):`, ...lines].join('\n');
}

/** A variant name from a flag (`--variant`, an item of `--variants`): a UsageError with the closest registered name if it is none. */
export function checkVariantName(name: string, flag = '--variant'): void {
  const names = variantNames();
  if (names.includes(name)) return;
  const guess = closestName(name, names);
  throw new UsageError(`unknown ${flag} '${name}'${guess ? `; did you mean '${guess}'?` : ''}`, { hint: `choose one of ${names.join(', ')}` });
}
