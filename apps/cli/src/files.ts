/**
 * The files a command is given and the files it writes. Inputs are read only when they are
 * regular files (a folder or a FIFO given by mistake is a one-line exit 2, not a crash or a
 * hang), and no output may land on an input: paths are compared as the file system sees them
 * (symbolic links resolved, hard links by device and inode), not as strings, so
 * `run link.onnx -o m.onnx --force` cannot replace m.onnx when link.onnx points to it.
 */
import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { DeprunError, UsageError } from '@deprune/errors';

/** A path and what it is to the command, for messages: `--config`, `the input model`, `-o`. */
export interface RolePath {
  path: string;
  role: string;
}

/**
 * What identifies the file at `path`: device and inode when it exists (the same for every
 * link to it, symbolic or hard), else the real path of its folder plus its name (where it
 * will be created).
 */
export function fileIdentity(path: string): string {
  try {
    const stats = statSync(path);
    return `inode ${stats.dev}:${stats.ino}`;
  } catch {
    // Does not exist (yet), or a dangling link: identified by where it would be.
  }
  const folder = dirname(resolve(path));
  try {
    return `path ${join(realpathSync(folder), basename(path))}`;
  } catch {
    return `path ${resolve(path)}`;
  }
}

/**
 * Refuses, with exit 2 naming both, any output that is the same file as an input. Call it
 * before any work, with every file the command reads and every file it will write.
 */
export function refuseOutputsOverInputs(outputs: readonly RolePath[], inputs: readonly (RolePath | undefined)[]): void {
  // An input that does not exist cannot be overwritten (reading it fails on its own).
  const known = inputs.filter((input): input is RolePath => input !== undefined && existsSync(input.path)).map((input) => ({ ...input, identity: fileIdentity(input.path) }));
  for (const output of outputs) {
    const identity = fileIdentity(output.path);
    const input = known.find((candidate) => candidate.identity === identity);
    if (input) {
      throw new UsageError(`refusing to write the ${output.role} over the ${input.role} '${input.path}' (the same file)`, {
        file: output.path,
        hint: 'choose another output path',
      });
    }
  }
}

/**
 * Refuses an output path that is a folder, exists without --force, or whose folder is
 * missing; checked up front so a bad path fails before the work, not after it.
 */
export function checkOutputPath(path: string, force: boolean): void {
  if (existsSync(path)) {
    if (statSync(path).isDirectory()) throw new UsageError('is a folder', { file: path, hint: 'give a file path' });
    if (!force) throw new UsageError('already exists; not overwriting it', { file: path, hint: 'pass --force to replace it, or choose another path' });
    return;
  }
  const folder = dirname(resolve(path));
  if (!existsSync(folder) || !statSync(folder).isDirectory()) {
    throw new UsageError('cannot write the file: its folder does not exist', { file: path, hint: 'create the folder first, or choose another path' });
  }
}

/**
 * Reads a file the user named with `flag`: missing, a folder, a FIFO or device (reading one
 * would block or never end) and unreadable are all exit 2 naming the file.
 */
export function readInputFile(path: string, what: string, flag: string): Buffer {
  let stats;
  try {
    stats = statSync(path);
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new DeprunError('FILE_NOT_FOUND', `no such ${what}`, { file: path, hint: `check the ${flag} path`, cause });
    throw new DeprunError('FILE_UNREADABLE', `cannot read the ${what} (${code ?? (cause as Error).message})`, { file: path, cause });
  }
  if (stats.isDirectory()) throw new DeprunError('FILE_UNREADABLE', 'is a folder, not a file', { file: path, hint: `give ${flag} the ${what} itself` });
  if (!stats.isFile()) throw new DeprunError('FILE_UNREADABLE', 'is not a regular file (a FIFO, socket or device)', { file: path, hint: `give ${flag} the ${what} itself` });
  try {
    return readFileSync(path);
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    throw new DeprunError('FILE_UNREADABLE', `cannot read the ${what} (${code ?? (cause as Error).message})`, { file: path, cause });
  }
}

/**
 * Refuses an output folder flag (`bench --out`) that names an existing file: checked when the
 * flags are read, so the mistake shows before a benchmark of minutes rather than after it.
 */
export function checkOutputFolder(path: string | undefined, flag: string): void {
  if (path === undefined || !existsSync(path) || statSync(path).isDirectory()) return;
  throw new UsageError(`${flag} must be a folder, but this is a file`, { file: path, hint: `give ${flag} a folder; it is created if missing` });
}
