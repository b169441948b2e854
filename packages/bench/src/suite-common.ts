/**
 * What the models, prune and hsr suites share: the fields at the top of every report, and the
 * checks of the common settings (a sparsity in [0, 1), whole numbers of warm-up and timed rounds).
 */
import { UsageError } from '@deprune/errors';
import { GPU_JS_VERSION } from '@deprune/gpu';
import { machineInfo as hostMachineInfo, type MachineInfo } from '@deprune/profiler';

/** This machine as bench reports record it: the profiler's record plus the gpu.js version the gpu.js modes run on. */
export function machineInfo(): MachineInfo {
  return { ...hostMachineInfo(), gpuJs: GPU_JS_VERSION };
}

/** The first fields of a suite report: what ran, where, when, on what. */
export interface SuiteReportHeader {
  /** The command line that ran the suite ('' for a library call). */
  command: string;
  machine: MachineInfo;
  /** ISO date of the run. */
  date: string;
  /** How the report names the model ('zoo:mobilenetv2', a file name). */
  model: string;
  /** The model's (single) input: name and shape. */
  input: { name: string; shape: number[] };
}

/**
 * A full garbage collection, run untimed before every timed call of the suites whose calls
 * allocate a lot (models, prune). Without it a call can pay for the garbage of the call before
 * it, and medians of the same variant moved by a third between two runs of the prune suite.
 * Node: `nodeGarbageCollector()`; a page: `exposedGarbageCollector()` (Chromium started with
 * --js-flags=--expose-gc, as the bench runner does). Reports record whether one was used.
 */
export type CollectGarbage = () => void;

/** The engine's `gc` when it is exposed (node --expose-gc, Chromium --js-flags=--expose-gc). */
export function exposedGarbageCollector(): CollectGarbage | undefined {
  const gc = (globalThis as { gc?: unknown }).gc;
  return typeof gc === 'function' ? (gc as CollectGarbage) : undefined;
}

/** How a report's method line states the garbage collection (`undefined`: a report made before it was recorded). */
export function gcNote(gcBeforeCall: boolean | undefined): string {
  if (gcBeforeCall === undefined) return '';
  return gcBeforeCall ? ', a full garbage collection (untimed) before every timed call' : ', no garbage collection between calls (the engine exposes none)';
}

function wholeNumber(name: string, value: number, minimum: number): number {
  if (!Number.isInteger(value) || value < minimum) throw new UsageError(`${name} must be an integer >= ${minimum}, got ${String(value)}`);
  return value;
}

/** `ratio`, `warmup` and `repeats` with their defaults, checked (UsageError naming the bad one). */
export function timingSettings(
  options: { ratio?: number; warmup?: number; repeats?: number },
  defaults: { ratio: number; warmup: number; repeats: number },
): { ratio: number; warmup: number; repeats: number } {
  const ratio = options.ratio ?? defaults.ratio;
  if (!(ratio >= 0 && ratio < 1)) throw new UsageError(`ratio must be in [0, 1), got ${String(ratio)}`);
  return { ratio, warmup: wholeNumber('warmup', options.warmup ?? defaults.warmup, 0), repeats: wholeNumber('repeats', options.repeats ?? defaults.repeats, 1) };
}
