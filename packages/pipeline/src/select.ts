/**
 * Which layers a config prunes, at which ratio, and why the others are left alone.
 */
import { DataType, dataTypeName, matchesPattern, type DsconvBlock, type GraphIndex, type LayerInfo } from '@deprune/onnx';
import type { ResolvedPruneConfig } from './config';

export interface PruneTarget {
  info: LayerInfo;
  kind: 'dw' | 'pw';
  /** Fraction of weights to remove (the variant may fix it, e.g. nm). */
  ratio: number;
  /** The ratio comes from a `layers[...]` override (allocation leaves it alone). */
  overridden: boolean;
  /** The DSConv block the layer is the DW or the PW of. */
  block?: DsconvBlock;
}

export interface SkippedLayer {
  name: string;
  reason: string;
}

export interface Selection {
  targets: PruneTarget[];
  skipped: SkippedLayer[];
  /** Names of the squeeze-excitation convs (never pruned). */
  squeezeExcitation: Set<string>;
}

/**
 * The nodes that finally read a constant, looking through Identity nodes; a graph output naming it
 * counts as a reader too ('<graph output>').
 */
function terminalReaders(index: GraphIndex, name: string, depth = 0): Set<string> {
  const readers = new Set<string>();
  if (index.outputs.includes(name)) readers.add('<graph output>');
  for (const node of index.consumers.get(name) ?? []) {
    if (node.opType === 'Identity' && depth < 8) {
      for (const output of node.output ?? []) for (const reader of terminalReaders(index, output, depth + 1)) readers.add(reader);
    } else {
      readers.add(node.name ?? '');
    }
  }
  return readers;
}

/** Why a layer's stored weight cannot be rewritten in place, or undefined when it can. */
export function weightProblem(index: GraphIndex, info: LayerInfo): string | undefined {
  const entry = index.constants.get(info.weight);
  if (!entry) return `its weight '${info.weight}' is not a stored constant`;
  const dataType = entry.proto.dataType ?? 0;
  if (dataType !== DataType.FLOAT) {
    return `its weight '${info.weight}' is ${dataTypeName(dataType)}; pruning rewrites float32 weights only`;
  }
  const readers = [...terminalReaders(index, info.weight)].filter((reader) => reader !== info.name);
  if (readers.length > 0) {
    return `its weight '${info.weight}' is shared with ${readers.map((reader) => `'${reader}'`).join(', ')}; pruning it would change them too`;
  }
  return undefined;
}

/**
 * Candidates: every DW layer, and PW layers per `pwScope` ('all': every PW except
 * squeeze-excitation convs; 'blocks': only the PW of DSConv blocks). Then `ignore` and
 * `layers[...].skip` remove layers, per-layer `ratio` overrides set the ratio (first matching key
 * wins), and layers whose weights cannot be rewritten (shared, not float32) are skipped.
 * Unmatched ignore patterns and override keys produce warnings (likely typos).
 */
export function selectLayers(
  index: GraphIndex,
  infos: readonly LayerInfo[],
  blocks: readonly DsconvBlock[],
  config: ResolvedPruneConfig,
  warnings: string[],
): Selection {
  const squeezeExcitation = new Set<string>();
  for (const block of blocks) for (const node of block.squeezeExcitation?.nodes ?? []) squeezeExcitation.add(node);
  const blockOf = new Map<string, DsconvBlock>();
  for (const block of blocks) {
    blockOf.set(block.dw, block);
    blockOf.set(block.pw, block);
  }
  const usedIgnore = new Set<string>();
  const usedOverride = new Set<string>();
  const targets: PruneTarget[] = [];
  const skipped: SkippedLayer[] = [];
  const overrides = Object.entries(config.layers);
  for (const info of infos) {
    if (info.kind !== 'dw' && info.kind !== 'pw') continue;
    const name = info.name;
    const block = blockOf.get(name);
    if (info.kind === 'pw') {
      if (squeezeExcitation.has(name)) {
        skipped.push({ name, reason: 'squeeze-excitation conv (never pruned)' });
        continue;
      }
      if (config.pwScope === 'blocks' && block?.pw !== name) {
        skipped.push({ name, reason: "pwScope 'blocks': not the PW of a DSConv block" });
        continue;
      }
    }
    const ignoredBy = config.ignore.find((pattern) => matchesPattern(name, pattern));
    if (ignoredBy !== undefined) {
      usedIgnore.add(ignoredBy);
      skipped.push({ name, reason: `ignored (ignore pattern '${ignoredBy}')` });
      continue;
    }
    const override = overrides.find(([pattern]) => matchesPattern(name, pattern));
    if (override) usedOverride.add(override[0]);
    if (override?.[1].skip) {
      skipped.push({ name, reason: `skip: true in layers['${override[0]}']` });
      continue;
    }
    const problem = weightProblem(index, info);
    if (problem) {
      skipped.push({ name, reason: problem });
      continue;
    }
    const ratio = override?.[1].ratio ?? (info.kind === 'dw' ? config.dwRatio : config.pwRatio);
    targets.push({ info, kind: info.kind, ratio, overridden: override?.[1].ratio !== undefined, ...(block ? { block } : {}) });
  }
  for (const pattern of config.ignore) {
    if (!usedIgnore.has(pattern)) warnings.push(`ignore pattern '${pattern}' matches no prunable layer`);
  }
  for (const [pattern] of overrides) {
    if (!usedOverride.has(pattern)) warnings.push(`layers['${pattern}'] matches no prunable layer (or an earlier key matched first)`);
  }
  return { targets, skipped, squeezeExcitation };
}
