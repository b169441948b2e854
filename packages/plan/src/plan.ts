/**
 * The plan file (`<model>.deprune.json`): what `prune()` writes and the runtime executes. Plain
 * JSON with a fixed key order; the per-layer entries are `@deprune/masks` `LayerPlanEntry`s (the
 * mask is rebuilt from `keptIndices`). It lives in its own small package so that a reader of
 * plans (the runtime, calibration, the CLI) does not depend on the pruner that writes them.
 */
import type { LayerPlanEntry, LayerPlanShape } from '@deprune/masks';

export const PLAN_FORMAT = 'deprune-plan';
export const PLAN_VERSION = 1;

/** One physical channel removal (the `channel` variant), as the pipeline's `removeChannels` did it. */
export interface PlanRemoval {
  /** The DW layer whose channels went. */
  dw: string;
  /** Removed channel indices of the input model, ascending. */
  channels: number[];
  /** Every node whose constants changed shape (producer conv, BN, DW, SE convs, PW). */
  touched: string[];
}

/**
 * A pruning plan. `Config` and `Variant` are the writer's types: `@deprune/pipeline` exports
 * `PrunePlan` as `PrunePlan<ResolvedPruneConfig, PruneVariant>`. A reader that does not know the
 * pruner sees the defaults (any object, any name); the runtime needs neither.
 */
export interface PrunePlan<Config extends object = object, Variant extends string = string> {
  format: typeof PLAN_FORMAT;
  version: typeof PLAN_VERSION;
  variant: Variant;
  /** The input model: where it came from and a hash of its serialized bytes. */
  model: { source: string; hash: string; bytes: number };
  /**
   * The pruned model this plan goes with: the hash and size of its serialized bytes (the file),
   * and the file's name as written (`deprune prune` sets it), for messages.
   */
  output: { hash: string; bytes: number; file?: string };
  /** The resolved configuration the plan was made with (the pipeline's `ResolvedPruneConfig`). */
  config: Config;
  /**
   * Per-layer entries in graph order. Shapes, kept and keptIndices refer to the INPUT model's
   * layer shapes. For masking variants the output model has the same shapes, with zeros where the
   * masks say. For `channel` the output model is physically smaller: see `physical`.
   */
  layers: LayerPlanEntry[];
  /**
   * `channel` variant only: the removals and the shapes every plan layer has in the output model
   * (DW: channels - removed; PW: input columns removed, and output rows too where it feeds a DW
   * that lost channels). null for the masking variants.
   */
  physical: { removals: PlanRemoval[]; shapes: Record<string, LayerPlanShape> } | null;
}

/** FNV-1a (32-bit) of bytes, as `fnv1a32:xxxxxxxx`. Identifies a model cheaply; not a security hash. */
export function fnv1a32(bytes: Uint8Array): string {
  let hash = 0x811c9dc5;
  for (let index = 0; index < bytes.length; index++) {
    hash ^= bytes[index];
    hash = Math.imul(hash, 0x01000193);
  }
  return `fnv1a32:${(hash >>> 0).toString(16).padStart(8, '0')}`;
}

/**
 * The plan as the text of a `.deprune.json` file: 2-space indented JSON with every array of numbers
 * on one line (a DW entry is one line per channel), newline-terminated. `parsePlan` gives the plan back.
 */
export function serializePlan(plan: PrunePlan): string {
  const text = JSON.stringify(plan, null, 2);
  // Arrays holding only numbers: no quotes, braces or nested brackets inside.
  return `${text.replace(/\[\s*(-?[\d.eE+-]+(?:,\s*-?[\d.eE+-]+)*)\s*\]/g, (_, items: string) => `[${items.split(/,\s*/).join(', ')}]`)}\n`;
}

/**
 * A value read from a plan file, short enough for a one-line message whatever the file holds: the
 * fuzzer put a 20,000-element array where the version goes, and the message was 100 KB.
 */
export function describePlanValue(value: unknown): string {
  if (typeof value === 'string') return value.length > 60 ? `'${value.slice(0, 60)}...' (${value.length} characters)` : `'${value}'`;
  if (value === null || typeof value !== 'object') return String(value);
  return Array.isArray(value) ? `an array of ${value.length}` : 'an object';
}
