/**
 * Publishing output files so that no reader, crash, signal or second writer sees a half-done
 * result. Each file is first written in full to a hidden temporary file next to its destination;
 * then the files are moved into place in the caller's order (prune: the plan first and the model
 * last, so an interruption in between leaves a plan without its model, which `run` reports, never
 * a model without its plan).
 *
 * Without --force the move is link(2), which fails with EEXIST when the destination exists: the
 * existence check made before the work is repeated atomically at the last moment, so of two
 * concurrent writers one wins and the other gets exit 2 (and withdraws what it had published).
 *
 * Temporary files are registered while they live; `cleanUpTemporariesOnSignals` makes SIGINT and
 * SIGTERM remove them before the process dies. SIGKILL cannot be caught: its leftovers are hidden
 * `.<name>.<pid>.<hex>.tmp` files.
 */
import { constants, copyFileSync, linkSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { DeprunError, UsageError } from '@deprune/errors';

/** Temporary files written and not yet published or removed. */
const liveTemporaries = new Set<string>();

/** Signals after which temporary files are removed before the process dies. */
const CLEANED_SIGNALS = ['SIGINT', 'SIGTERM'] as const;

let cleanOnSignals = false;
let listeningForSignals = false;

function writeError(path: string, cause: unknown): DeprunError {
  const code = (cause as NodeJS.ErrnoException).code;
  return new DeprunError('FILE_UNREADABLE', `cannot write the file (${code ?? (cause as Error).message})`, {
    file: path,
    hint: 'check that the folder exists and is writable',
    cause,
  });
}

/** Dies of `signal` as if no handler were installed, so the parent sees the signal (or 128 + its number). */
function reraise(signal: (typeof CLEANED_SIGNALS)[number]): void {
  process.kill(process.pid, signal);
  process.exit(128 + osConstants.signals[signal]);
}

/**
 * Installed when the first temporary file is written, not at start-up: until then there is nothing
 * to clean, and Node's default action (die at once) is the right answer to Ctrl-C during a long
 * computation, which a listener would defer until the computation yields.
 */
function listenForSignals(): void {
  if (!cleanOnSignals || listeningForSignals) return;
  listeningForSignals = true;
  for (const signal of CLEANED_SIGNALS) {
    process.once(signal, () => {
      removeLiveTemporaries();
      reraise(signal);
    });
  }
}

/** Makes SIGINT and SIGTERM remove live temporary files first. For the executable, not for embedders of main(). */
export function cleanUpTemporariesOnSignals(): void {
  cleanOnSignals = true;
  if (liveTemporaries.size > 0) listenForSignals();
}

/** Removes every temporary file not yet published (what a signal handler calls). */
export function removeLiveTemporaries(): void {
  for (const temporary of liveTemporaries) rmSync(temporary, { force: true });
  liveTemporaries.clear();
}

/** The temporary files alive now (for tests). */
export function liveTemporaryFiles(): string[] {
  return [...liveTemporaries];
}

function discardTemporary(temporary: string): void {
  rmSync(temporary, { force: true });
  liveTemporaries.delete(temporary);
}

/** Writes `bytes` to a new hidden temporary file in `path`'s folder and returns its path. */
export function writeTemporaryNextTo(path: string, bytes: Uint8Array | string): string {
  const target = resolve(path);
  const temporary = join(dirname(target), `.${basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  // Registered before the write: a signal handler must find a half-written file too.
  liveTemporaries.add(temporary);
  listenForSignals();
  try {
    // 'wx': never follow or reuse a file someone else put at this name.
    writeFileSync(temporary, bytes, { flag: 'wx' });
  } catch (cause) {
    discardTemporary(temporary);
    throw writeError(path, cause);
  }
  return temporary;
}

/** Error codes of file systems without hard links (FAT, some network mounts). */
const NO_HARD_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EXDEV', 'EMLINK']);

function appearedMeanwhile(path: string, cause: unknown): UsageError {
  return new UsageError('appeared while deprune was working (another process wrote it); not overwriting it', {
    file: path,
    hint: 'pass --force to replace it, or choose another path',
    cause,
  });
}

/**
 * Creates `path` from the finished temporary file, failing if it exists: link(2) is atomic, so a
 * file another process created since the up-front check is never replaced.
 */
function createExclusively(temporary: string, path: string): void {
  try {
    linkSync(temporary, path);
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code ?? '';
    if (code === 'EEXIST') throw appearedMeanwhile(path, cause);
    if (!NO_HARD_LINKS.has(code)) throw writeError(path, cause);
    // No hard links here: an exclusive copy keeps the existence check atomic (not the content's).
    try {
      copyFileSync(temporary, path, constants.COPYFILE_EXCL);
    } catch (copyCause) {
      if ((copyCause as NodeJS.ErrnoException).code === 'EEXIST') throw appearedMeanwhile(path, copyCause);
      throw writeError(path, copyCause);
    }
  }
}

function replace(temporary: string, path: string): void {
  try {
    renameSync(temporary, path);
  } catch (cause) {
    throw writeError(path, cause);
  }
}

/** device:inode of the file at `path`, or undefined when there is none. */
function identityOf(path: string): string | undefined {
  try {
    const stats = statSync(path);
    return `${stats.dev}:${stats.ino}`;
  } catch {
    return undefined;
  }
}

/**
 * Lets the event loop poll once: a SIGINT or SIGTERM that arrived during synchronous work reaches
 * its listener only when the loop polls, so without this it could wait until the process exits
 * (and be lost). Two immediates: one queued from the poll phase runs before the next poll, one
 * queued from the check phase runs after it.
 */
function handlePendingSignals(): Promise<void> {
  return new Promise((resolve) => setImmediate(() => setImmediate(resolve)));
}

export interface OutputFile {
  path: string;
  bytes: Uint8Array | string;
}

/**
 * Writes every file to a temporary file (the slow part, before anything is published), then
 * publishes them in the given order: with `force` by rename (replacing what is there), else by
 * exclusive creation. If one cannot be published, the files this call created are withdrawn
 * (with `force` nothing is withdrawn: what was replaced is gone either way, and the plan's hash
 * tells a mismatched pair). Temporary files never outlive the call.
 *
 * Signals are let in at two points only: after the temporary files are written (a signal that
 * came meanwhile removes them, and nothing is published) and after every file is published (the
 * set is whole, and the process still dies of the signal). Publishing itself is synchronous, so
 * a SIGINT or SIGTERM never splits the set.
 */
export async function publishFiles(files: readonly OutputFile[], options: { force: boolean }): Promise<void> {
  const temporaries: string[] = [];
  const created: { path: string; identity: string | undefined }[] = [];
  try {
    for (const file of files) temporaries.push(writeTemporaryNextTo(file.path, file.bytes));
    await handlePendingSignals();
    files.forEach((file, position) => {
      if (options.force) return replace(temporaries[position], file.path);
      createExclusively(temporaries[position], file.path);
      created.push({ path: file.path, identity: identityOf(file.path) });
    });
  } catch (error) {
    // Only what is still ours: compared by inode, so a file that replaced ours meanwhile stays.
    for (const { path, identity } of created) if (identity !== undefined && identityOf(path) === identity) rmSync(path, { force: true });
    throw error;
  } finally {
    temporaries.forEach(discardTemporary);
  }
  await handlePendingSignals();
}
