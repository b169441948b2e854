import { UsageError } from '@deprune/errors';

/**
 * Timing helpers of the profiler, the benchmarks and the CLI (their one home): a function timed
 * alone or several side by side, with medians and their standard error. Plain JavaScript timing
 * (`performance.now()` around awaited calls): nothing here knows a backend.
 */

export interface MeasureOptions {
  /** Untimed calls first (compilation, caches, JIT). Default 2. */
  warmup?: number;
  /** Timed calls. Default 7. */
  repeats?: number;
}

export interface Measurement {
  /** Median of the timed calls, in milliseconds. */
  medianMs: number;
  /** Max - min of the timed calls, in milliseconds: how far to trust the median. */
  spreadMs: number;
  /** Every timed call, in call order, in milliseconds. */
  samples: number[];
}

/** The median of some numbers (the mean of the middle two for an even count); NaN for none. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/**
 * Standard error of the median of timing samples: 1.2533 * sigma / sqrt(n) (the
 * median's error for roughly normal noise), with sigma estimated robustly as 1.4826 * the median
 * absolute deviation, so the odd slow call (a scheduler hiccup, GC) does not inflate it as it
 * inflates max - min. 0 for fewer than 3 samples (no estimate: only the fit's own tests apply).
 */
export function medianStandardError(samples: readonly number[]): number {
  if (samples.length < 3) return 0;
  const middle = median(samples);
  const deviation = median(samples.map((sample) => Math.abs(sample - middle)));
  return (1.2533 * 1.4826 * deviation) / Math.sqrt(samples.length);
}


function count(name: string, value: number, minimum: number): number {
  if (!Number.isInteger(value) || value < minimum) throw new UsageError(`measureMedian ${name} must be an integer >= ${minimum}, got ${String(value)}`);
  return value;
}

/**
 * Calls `fn` `warmup` times untimed, then `repeats` times timed (awaiting it when it returns a
 * promise), one call after another. The median resists the odd slow call (GC, a scheduler hiccup)
 * better than the mean; the spread says how noisy the machine was. For the profiler, the
 * benchmarks and the CLI's timings: tests should not assert on it.
 */
export async function measureMedian(fn: () => unknown, options: MeasureOptions = {}): Promise<Measurement> {
  const warmup = count('warmup', options.warmup ?? 2, 0);
  const repeats = count('repeats', options.repeats ?? 7, 1);
  for (let call = 0; call < warmup; call++) await fn();
  const samples: number[] = [];
  for (let call = 0; call < repeats; call++) {
    const start = performance.now();
    await fn();
    samples.push(performance.now() - start);
  }
  return { medianMs: median(samples), spreadMs: Math.max(...samples) - Math.min(...samples), samples };
}

function measurementOf(samples: number[]): Measurement {
  return { medianMs: median(samples), spreadMs: Math.max(...samples) - Math.min(...samples), samples };
}

export interface InterleavedOptions {
  /** Untimed calls of each function first. Default 1. */
  warmup?: number;
  /** Timed rounds; each round calls every function once. Default 7. */
  repeats?: number;
  /** Called after the warmup (round 0) and after every round. */
  onRound?: (round: number, rounds: number) => void;
  /**
   * Called, untimed, before every timed call: e.g. a full garbage collection, so the garbage one
   * call left behind is not collected inside the next call's timing (what made prune() timings
   * of the same variant differ by a third between runs).
   */
  beforeCall?: () => void;
}

/**
 * Times several functions side by side: `warmup` untimed calls of each, then `repeats` rounds
 * that call each function once (awaited, one after another; the order rotates every round so
 * none is always first). A slow spell of a shared machine then lands on every function alike,
 * which is what comparisons between them need. Returns one measurement per function (median,
 * spread = max - min, samples in round order), in milliseconds.
 */
export async function measureInterleaved(fns: readonly (() => unknown)[], options: InterleavedOptions = {}): Promise<Measurement[]> {
  const warmup = options.warmup ?? 1;
  const repeats = options.repeats ?? 7;
  if (!Number.isInteger(warmup) || warmup < 0) throw new UsageError(`warmup must be an integer >= 0, got ${String(warmup)}`);
  if (!Number.isInteger(repeats) || repeats < 1) throw new UsageError(`repeats must be an integer >= 1, got ${String(repeats)}`);
  for (let call = 0; call < warmup; call++) for (const fn of fns) await fn();
  options.onRound?.(0, repeats);
  const samples = fns.map((): number[] => []);
  for (let round = 0; round < repeats; round++) {
    for (let offset = 0; offset < fns.length; offset++) {
      const index = (offset + round) % fns.length;
      options.beforeCall?.();
      const start = performance.now();
      await fns[index]();
      samples[index].push(performance.now() - start);
    }
    options.onRound?.(round + 1, repeats);
  }
  return samples.map(measurementOf);
}
