/**
 * Is a run repeatable? Given an earlier report of the same suite and settings, every timed row of
 * the new run is checked against the earlier run's spread: its median must fall inside the range
 * of the earlier run's calls (fastest to slowest), and the earlier median inside the new range.
 * That is what "running a suite twice gives medians within the spread it reports" means, row by
 * row, and the report keeps the verdict (`deprune bench ... --compare earlier.json`).
 */
import type { HsrSuiteReport } from './hsr-suite';
import type { KernelSuiteReport } from './kernels';
import type { ModelSuiteReport } from './models';
import type { PruneSuiteReport } from './prune-suite';

type Report = ModelSuiteReport | KernelSuiteReport | PruneSuiteReport | HsrSuiteReport;

/** One timed quantity of a report: its median and the range of its calls, in milliseconds. */
export interface TimedRow {
  key: string;
  medianMs: number;
  lowMs: number;
  highMs: number;
}

export interface RepeatabilityRow {
  key: string;
  previous: { medianMs: number; lowMs: number; highMs: number };
  current: { medianMs: number; lowMs: number; highMs: number };
  /** The current median within the previous range, and the previous median within the current range. */
  within: boolean;
}

export interface Repeatability {
  /** The earlier report's date and command. */
  previous: { date: string; command: string };
  rows: number;
  within: number;
  /**
   * The same check on the ratios the suite reports (models: each run against our dense run;
   * kernels: each variant against dense, per block and op), taken round by round: in round r
   * both were timed side by side, so a slow spell of a shared machine cancels. `null` for suites
   * without such ratios (prune, hsr).
   */
  ratios: { rows: number; within: number; details: RepeatabilityRow[] } | null;
  /** Rows of one run missing from the other (a changed setting). */
  unmatched: string[];
  /** Every compared row. */
  details: RepeatabilityRow[];
  /** How the range was taken, per suite. */
  method: string;
}

const range = (samples: readonly number[]) => ({ lowMs: Math.min(...samples), highMs: Math.max(...samples) });

function medianOf(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** Per-round ratios reference / row (samples are in round order), as a timed row of unitless values. */
function roundRatios(key: string, reference: readonly number[], samples: readonly number[]): TimedRow {
  const ratios = samples.map((sample, round) => reference[round] / sample);
  return { key, medianMs: medianOf(ratios), ...range(ratios) };
}

/** The ratios a report states, per round: models against our dense run, kernels against dense per block and op. */
export function ratioRows(report: Report): TimedRow[] | null {
  if (report.suite === 'models') {
    const dense = report.rows.find((row) => !row.yardstick && row.variant === 'dense');
    if (dense === undefined) return null;
    return report.rows.filter((row) => row !== dense).map((row) => roundRatios(`${row.backend} ${row.variant} (${row.threads} thread${row.threads === 1 ? '' : 's'}) vs dense`, dense.samplesMs, row.samplesMs));
  }
  if (report.suite === 'kernels') {
    return report.rows
      .filter((row) => row.variant !== 'dense')
      .flatMap((row) => {
        const dense = report.rows.find((other) => other.layer === row.layer && other.op === row.op && other.variant === 'dense');
        return dense === undefined ? [] : [roundRatios(`${row.layer} ${row.op} ${row.variant} vs dense`, dense.samplesMs, row.samplesMs)];
      });
  }
  return null;
}

function compareRows(before: readonly TimedRow[], now: readonly TimedRow[]): { details: RepeatabilityRow[]; unmatched: string[] } {
  const earlier = new Map(before.map((row) => [row.key, row]));
  const current = new Map(now.map((row) => [row.key, row]));
  const details: RepeatabilityRow[] = [];
  for (const [key, row] of current) {
    const old = earlier.get(key);
    if (old === undefined) continue;
    const within = row.medianMs >= old.lowMs && row.medianMs <= old.highMs && old.medianMs >= row.lowMs && old.medianMs <= row.highMs;
    details.push({ key, previous: { medianMs: old.medianMs, lowMs: old.lowMs, highMs: old.highMs }, current: { medianMs: row.medianMs, lowMs: row.lowMs, highMs: row.highMs }, within });
  }
  const unmatched = [...[...earlier.keys()].filter((key) => !current.has(key)), ...[...current.keys()].filter((key) => !earlier.has(key))];
  return { details, unmatched };
}

/**
 * The timed rows of a report. hsr reports keep each count's median and spread (max - min), not its
 * calls: the range is then median - spread .. median + spread, which contains the calls' range.
 */
export function timedRows(report: Report): TimedRow[] {
  switch (report.suite) {
    case 'models':
      return report.rows.map((row) => ({ key: `${row.backend} ${row.variant} (${row.threads} thread${row.threads === 1 ? '' : 's'})`, medianMs: row.medianMs, ...range(row.samplesMs) }));
    case 'prune':
      return report.rows.map((row) => ({ key: row.variant, medianMs: row.medianMs, ...range(row.samplesMs) }));
    case 'kernels':
      return report.rows.map((row) => ({ key: `${row.layer} ${row.op} ${row.variant}`, medianMs: row.medianMs, ...range(row.samplesMs) }));
    case 'hsr':
      return report.layers.flatMap((layer) =>
        layer.kept.map((kept, index) => {
          const medianMs = layer.rawLatencyUs[index] / 1000;
          const spreadMs = layer.spreadUs[index] / 1000;
          return { key: `${layer.layer} n=${kept}`, medianMs, lowMs: medianMs - spreadMs, highMs: medianMs + spreadMs };
        }),
      );
  }
}

export function compareRuns(previous: Report, current: Report): Repeatability {
  if (previous.suite !== current.suite) throw new Error(`cannot compare a ${previous.suite} report with a ${current.suite} report`);
  const { details, unmatched } = compareRows(timedRows(previous), timedRows(current));
  const ratiosBefore = ratioRows(previous);
  const ratiosNow = ratioRows(current);
  const ratios = ratiosBefore === null || ratiosNow === null ? null : compareRows(ratiosBefore, ratiosNow).details;
  return {
    previous: { date: previous.date, command: previous.command },
    rows: details.length,
    within: details.filter((detail) => detail.within).length,
    ratios: ratios === null ? null : { rows: ratios.length, within: ratios.filter((detail) => detail.within).length, details: ratios },
    unmatched,
    details,
    method:
      current.suite === 'hsr'
        ? "each count's median against the other run's median +- its spread (max - min of its calls)"
        : "each row's median against the other run's fastest-to-slowest call, both ways",
  };
}

/** A Markdown section for a report that carries a comparison. */
export function repeatabilityMarkdown(repeatability: Repeatability | undefined): string {
  if (repeatability === undefined) return '';
  const outside = repeatability.details.filter((detail) => !detail.within);
  const lines = [
    '',
    '## Repeatability',
    '',
    `Compared with the run of ${repeatability.previous.date} (\`${repeatability.previous.command}\`): **${repeatability.within} of ${repeatability.rows}** medians within the other run's spread (${repeatability.method}).`,
  ];
  if (repeatability.ratios !== null) {
    lines.push(
      '',
      `Ratios (each row against dense, per round: both were timed side by side, so a slow spell of the machine cancels): **${repeatability.ratios.within} of ${repeatability.ratios.rows}** medians within the other run's range of per-round ratios.`,
    );
  }
  if (outside.length > 0) {
    lines.push('', 'Outside:', '');
    for (const detail of outside.slice(0, 20)) {
      lines.push(
        `- ${detail.key}: ${detail.current.medianMs.toFixed(3)} ms now (${detail.current.lowMs.toFixed(3)}-${detail.current.highMs.toFixed(3)}), ${detail.previous.medianMs.toFixed(3)} ms before (${detail.previous.lowMs.toFixed(3)}-${detail.previous.highMs.toFixed(3)})`,
      );
    }
    if (outside.length > 20) lines.push(`- ... ${outside.length - 20} more in the JSON`);
  }
  if (repeatability.unmatched.length > 0) lines.push('', `Rows in only one of the runs: ${repeatability.unmatched.join(', ')}.`);
  return `${lines.join('\n')}\n`;
}
