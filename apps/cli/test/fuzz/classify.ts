/**
 * The fuzzer's verdict on one run. Acceptable: exit 0, or exit 2 whose error is one line, the last
 * on stderr, starting `deprune: ` (progress lines and `deprune: warning:` lines may come before it).
 * Everything else is a failure: exit 1 (an internal error for bad input), any other code, a crash
 * or out-of-memory of the worker, a hang past the per-case limit, a stack trace, a second error
 * line, a raw control character on either stream, an error line over MAX_MESSAGE characters (a
 * value dumped whole into the message), or an input file that changed.
 */

/** Longer error lines echo a whole value from the input (an array, a document) instead of naming it. */
export const MAX_MESSAGE = 10_000;

export interface RunOutcome {
  /** Exit code; undefined when the run never finished (see `crash`, `timedOut`). */
  code?: number;
  stdout: string;
  stderr: string;
  ms: number;
  /** The worker died (uncaught error, out of memory). */
  crash?: string;
  timedOut?: boolean;
  /** Input files whose bytes differ after the run. */
  changedInputs?: string[];
}

export type Verdict = { ok: true; kind: 'exit 0' | 'exit 2' } | { ok: false; reason: string };

/** C0 controls but tab and newline, DEL and C1: what escapeControlCharacters turns into `\xHH`. */
const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;
const STACK_FRAME = /^\s+at .+(:\d+:\d+\)?|\(native\))$/m;

function errorLines(stderr: string): string[] {
  return stderr.split('\n').filter((line) => line.startsWith('deprune: ') && !line.startsWith('deprune: warning: '));
}

export function classify(outcome: RunOutcome): Verdict {
  if (outcome.timedOut) return { ok: false, reason: `hang: no exit within ${outcome.ms} ms` };
  if (outcome.crash !== undefined) return { ok: false, reason: `crash: ${outcome.crash}` };
  if (outcome.changedInputs?.length) return { ok: false, reason: `input changed: ${outcome.changedInputs.join(', ')}` };
  if (RAW_CONTROL.test(outcome.stdout) || RAW_CONTROL.test(outcome.stderr)) return { ok: false, reason: 'a raw control character was printed' };
  if (STACK_FRAME.test(outcome.stderr)) return { ok: false, reason: 'a stack trace was printed' };
  if (outcome.code === 0) return { ok: true, kind: 'exit 0' };
  if (outcome.code !== 2) return { ok: false, reason: `exit ${outcome.code}: ${errorLines(outcome.stderr)[0] ?? outcome.stderr.trim().split('\n').pop()}` };
  const errors = errorLines(outcome.stderr);
  const lastLine = outcome.stderr.trimEnd().split('\n').pop() ?? '';
  if (errors.length !== 1) return { ok: false, reason: `exit 2 with ${errors.length} error lines` };
  if (errors[0] !== lastLine) return { ok: false, reason: 'exit 2, but the error is not the last line on stderr' };
  if (/internal error/.test(errors[0])) return { ok: false, reason: `exit 2 saying internal error: ${errors[0]}` };
  if (errors[0].length > MAX_MESSAGE) return { ok: false, reason: `exit 2 with a message of ${errors[0].length} characters: ${errors[0].slice(0, 120)}...` };
  return { ok: true, kind: 'exit 2' };
}
