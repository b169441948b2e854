/**
 * What the models, prune and hsr suites share: the fields at the top of every report, and the
 * checks of the common settings (a sparsity in [0, 1), whole numbers of warm-up and timed rounds).
 */
import { UsageError } from '@deprune/errors';
import type { MachineInfo } from './machine';

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
