import { getVariant } from '@deprune/masks';
import { measureInterleaved } from '@deprune/profiler';
import { indexGraph, type OnnxModel } from '@deprune/onnx';
import { prune, type PruneConfig, type PruneVariant } from '@deprune/pipeline';
import type { MachineInfo } from '@deprune/profiler';
import { machineInfo } from './suite-common';
import { timingSettings, type CollectGarbage, type SuiteReportHeader } from './suite-common';

/**
 * The prune suite: how long `prune()` takes per variant, and how much memory it needs. `prune()`
 * is pure JavaScript on the host, so no gpu.js mode is involved; where it runs (Node, or a browser
 * page) is what the report records. Variants are timed interleaved round by round (like every
 * suite), so their ratios hold on a shared machine. Memory is measured by a pluggable probe:
 * in Node each variant runs once more in a fresh process (`nodePruneMemoryProbe`); a browser page
 * has no way to observe the peak of a synchronous call, and says so.
 */

export const PRUNE_SUITE_VARIANTS = ['unstructured', 'channel', 'deprune', 'deprune-b', 'deprune-bh'] as const satisfies readonly PruneVariant[];
/** The default set is PRUNE_SUITE_VARIANTS; any registered variant may be named. */
export type PruneSuiteVariant = PruneVariant;

export const DEFAULT_PRUNE_RATIO = 0.5;

/** What a memory probe measured for one variant's `prune()` call. */
export interface PruneMemory {
  /** Resident set size just before the call (model parsed, after a full GC), MiB. */
  baselineRssMiB: number;
  /** Highest resident set size seen during the call, MiB. */
  peakRssMiB: number;
  /** peak - baseline: the extra memory the call needed at its peak, MiB. */
  peakExtraMiB: number;
  /** JavaScript heap in use before and right after the call (before any GC), MiB. */
  heapBeforeMiB: number;
  heapAfterMiB: number;
  /** How many RSS samples were taken during the call. */
  samples: number;
}

export interface PruneMemoryProbe {
  /** One sentence: what is measured and how (recorded in the report). */
  method: string;
  measure(model: OnnxModel, config: PruneConfig): Promise<PruneMemory>;
}

export interface PruneSuiteProgress {
  stage: 'warmup' | 'time' | 'memory';
  done: number;
  total: number;
  detail?: string;
}

export interface PruneSuiteOptions {
  model: OnnxModel;
  modelName: string;
  /** The input shape (single-input models); the pruner needs it for the channel variant's shape checks and MACs. */
  inputShape: readonly number[];
  ratio?: number;
  variants?: readonly PruneSuiteVariant[];
  /** Untimed calls of each variant first. Default 2 (V8 optimises prune()'s loops over the first calls). */
  warmup?: number;
  /** Timed rounds. Default 7. */
  repeats?: number;
  /** Run untimed before every timed call (see `CollectGarbage`); the report records whether there was one. */
  collectGarbage?: CollectGarbage;
  /** Where it runs: 'node' or 'chromium' (the report's folder). Default 'node'. */
  environment?: string;
  /** Peak memory per variant; without one the report says memory was not measured and why. */
  memory?: PruneMemoryProbe;
  /** Why memory is not measured (when `memory` is absent). */
  memoryUnavailable?: string;
  machine?: MachineInfo;
  command?: string;
  onProgress?: (event: PruneSuiteProgress) => void;
}

export interface PruneSuiteRow {
  variant: PruneSuiteVariant;
  medianMs: number;
  spreadMs: number;
  minMs: number;
  samplesMs: number[];
  /** Layers the plan prunes, weights in them and kept. */
  layers: number;
  weights: number;
  keptWeights: number;
  sparsity: number;
  /** The slowest variant's median over this one's: how much cheaper it is to compute. */
  relativeToSlowest: number;
  memory: PruneMemory | null;
}

export interface PruneSuiteReport extends SuiteReportHeader {
  suite: 'prune';
  environment: string;
  /** gcBeforeCall: whether a full garbage collection ran (untimed) before every timed call. */
  settings: { ratio: number; warmup: number; repeats: number; variants: PruneSuiteVariant[]; gcBeforeCall: boolean };
  versions: Record<string, string>;
  /** How memory was measured, or why it was not. */
  memory: { measured: true; method: string } | { measured: false; reason: string };
  rows: PruneSuiteRow[];
  summary: { fastest: PruneSuiteVariant; slowest: PruneSuiteVariant; totalMedianMs: number };
  seconds: number;
}

/** The JavaScript engine that ran `prune()`: V8's version in Node (a page's browser is in the machine record). */
function engineVersions(): Record<string, string> {
  const v8 = (globalThis as { process?: { versions?: { v8?: string } } }).process?.versions?.v8;
  return v8 === undefined ? {} : { v8 };
}

export async function runPruneSuite(options: PruneSuiteOptions): Promise<PruneSuiteReport> {
  const started = performance.now();
  const { ratio, warmup, repeats } = timingSettings(options, { ratio: DEFAULT_PRUNE_RATIO, warmup: 2, repeats: 7 });
  const variants = [...new Set(options.variants ?? PRUNE_SUITE_VARIANTS)];
  // Any registered variant (@deprune/masks' registerVariant), refused by name with did-you-mean.
  for (const variant of variants) getVariant(variant);
  const { model } = options;
  const inputName = indexGraph(model).inputs[0];
  const configs = variants.map((variant): PruneConfig => ({ variant, ratio, inputShapes: { [inputName]: [...options.inputShape] } }));

  // Every call prunes from the same parsed model; prune() never changes its input. Only each
  // variant's first result is kept (for the report), so later calls leave all their memory as garbage.
  const results = configs.map(() => null as ReturnType<typeof prune> | null);
  const measured = await measureInterleaved(
    configs.map((config, index) => () => {
      const result = prune(model, config);
      results[index] ??= result;
    }),
    {
      warmup,
      repeats,
      ...(options.collectGarbage === undefined ? {} : { beforeCall: options.collectGarbage }),
      onRound: (round, rounds) => options.onProgress?.({ stage: round === 0 ? 'warmup' : 'time', done: round, total: rounds }),
    },
  );

  const memory: (PruneMemory | null)[] = configs.map(() => null);
  if (options.memory) {
    for (const [index, config] of configs.entries()) {
      options.onProgress?.({ stage: 'memory', done: index, total: configs.length, detail: config.variant });
      memory[index] = await options.memory.measure(model, config);
    }
    options.onProgress?.({ stage: 'memory', done: configs.length, total: configs.length });
  }

  const slowestMs = Math.max(...measured.map((each) => each.medianMs));
  const rows: PruneSuiteRow[] = variants.map((variant, index) => {
    const layers = results[index]!.report.layers;
    const weights = layers.reduce((sum, layer) => sum + layer.weights, 0);
    const keptWeights = layers.reduce((sum, layer) => sum + layer.keptWeights, 0);
    return {
      variant,
      medianMs: measured[index].medianMs,
      spreadMs: measured[index].spreadMs,
      minMs: Math.min(...measured[index].samples),
      samplesMs: measured[index].samples,
      layers: layers.length,
      weights,
      keptWeights,
      sparsity: weights === 0 ? 0 : 1 - keptWeights / weights,
      relativeToSlowest: slowestMs / measured[index].medianMs,
      memory: memory[index],
    };
  });
  const byTime = [...rows].sort((a, b) => a.medianMs - b.medianMs);
  return {
    suite: 'prune',
    command: options.command ?? '',
    machine: options.machine ?? machineInfo(),
    date: new Date().toISOString(),
    environment: options.environment ?? 'node',
    model: options.modelName,
    input: { name: inputName, shape: [...options.inputShape] },
    settings: { ratio, warmup, repeats, variants, gcBeforeCall: options.collectGarbage !== undefined },
    versions: engineVersions(),
    memory: options.memory
      ? { measured: true, method: options.memory.method }
      : { measured: false, reason: options.memoryUnavailable ?? 'no memory probe was given' },
    rows,
    summary: { fastest: byTime[0].variant, slowest: byTime[byTime.length - 1].variant, totalMedianMs: rows.reduce((sum, row) => sum + row.medianMs, 0) },
    seconds: Math.round((performance.now() - started) / 100) / 10,
  };
}
