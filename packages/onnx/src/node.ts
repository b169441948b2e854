/**
 * The Node.js edge of @deprune/onnx (`@deprune/onnx/node`): files in and out. Everything
 * else in the package is pure and runs in the browser too.
 */
import { closeSync, constants, fstatSync, openSync, readSync, readFileSync, realpathSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { randomBytes } from 'node:crypto';
import { DeprunError, ModelFileError, UnsafePathError, UsageError } from '@deprune/errors';
import { parseModel, serializeModel, type OnnxModel } from './model';
import type { ExternalDataReader } from './tensor-proto';

/** Reads a whole file with errors that name it and say what to do. */
export function readFileChecked(path: string): Uint8Array {
  try {
    const stats = statSync(path);
    if (stats.isDirectory()) {
      throw new ModelFileError('FILE_UNREADABLE', 'is a folder, not a file', { file: path, hint: 'pass the .onnx file itself' });
    }
    // Reading a FIFO blocks until something writes to it, and a device may never end.
    if (!stats.isFile()) throw new ModelFileError('FILE_UNREADABLE', 'is not a regular file (a FIFO, socket or device)', { file: path, hint: 'pass the .onnx file itself' });
    return readFileSync(path);
  } catch (cause) {
    if (cause instanceof DeprunError) throw cause;
    const code = (cause as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new ModelFileError('FILE_NOT_FOUND', 'no such file', { file: path, hint: 'check the path', cause });
    throw new ModelFileError('FILE_UNREADABLE', `cannot read the file (${code ?? (cause as Error).message})`, { file: path, cause });
  }
}

function isInside(folder: string, candidate: string): boolean {
  const rel = relative(folder, candidate);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) && !rel.split(sep).includes('..');
}

/**
 * The largest tensor read from external data. Node cannot read more than 2 GiB in one call
 * (its raw '"length" is out of range' error), and no depth-wise separable CNN has a weight
 * tensor anywhere near this size.
 */
export const MAX_EXTERNAL_TENSOR_BYTES = 2 ** 31 - 1;

/** Whether an external_data `offset` or `length` is absent or a whole, non-negative number of bytes. */
function isByteCount(value: number | undefined): boolean {
  return value === undefined || (Number.isSafeInteger(value) && value >= 0);
}

/** Reads exactly `count` bytes at `offset`; a short read means the file shrank under us. */
function readExactly(fd: number, offset: number, count: number): Uint8Array | undefined {
  const bytes = new Uint8Array(count);
  let done = 0;
  while (done < count) {
    const read = readSync(fd, bytes, done, count - done, offset + done);
    if (read === 0) return undefined;
    done += read;
  }
  return bytes;
}

/**
 * External data reader confined to `folder`: a location that is absolute, climbs out
 * with '..', or is a link that resolves outside the folder is refused. (A model file
 * could otherwise make us read any file on the machine.) Only regular files are read (a
 * FIFO would block for ever, a device never end), and the file's size is checked against
 * what the tensor needs before anything is read; then exactly those bytes are read.
 */
export function confinedExternalDataReader(folder: string, modelFile: string): ExternalDataReader {
  const realFolder = realpathSync(folder);
  return (location, offset, length, request) => {
    const tensor = request ? `tensor '${request.tensor}': ` : '';
    const refuse = (why: string) =>
      new UnsafePathError(`${tensor}external data '${location}' ${why}`, {
        file: modelFile,
        hint: "external data must be a file inside the model's folder",
      });
    const invalid = (why: string, hint = 'the external data file is truncated or belongs to another model') =>
      new ModelFileError('INVALID_MODEL', `${tensor}external data '${location}' ${why}`, { file: modelFile, hint });
    if (isAbsolute(location) || location.includes('\0')) throw refuse('is an absolute path');
    const candidate = resolve(realFolder, location);
    if (!isInside(realFolder, candidate)) throw refuse('resolves outside the model folder');
    let real: string;
    try {
      real = realpathSync(candidate);
    } catch (cause) {
      throw new ModelFileError('FILE_NOT_FOUND', `${tensor}external data file '${location}' is missing`, { file: modelFile, cause });
    }
    if (!isInside(realFolder, real)) throw refuse('is a link that points outside the model folder');
    if (!isByteCount(offset) || !isByteCount(length)) throw invalid(`has a bad offset or length (${offset}, ${length})`, 'offset and length must be whole numbers of bytes');
    if (request && length !== undefined && length !== request.bytes) {
      throw invalid(`gives length ${length} but the tensor's shape and type need ${request.bytes} bytes`, 'the model file is corrupt; export it again');
    }
    const wanted = request?.bytes ?? length;
    if (wanted !== undefined && wanted > MAX_EXTERNAL_TENSOR_BYTES) {
      throw invalid(`would need ${wanted} bytes; tensors over ${MAX_EXTERNAL_TENSOR_BYTES} bytes are not supported`, 'the model file is corrupt, or the tensor is too large for deprune');
    }
    // stat before open: opening a FIFO for reading blocks until a writer comes.
    if (!statSync(real).isFile()) throw invalid('is not a regular file (a folder, FIFO, socket or device)', 'external data must be a regular file');
    // O_NONBLOCK as well: the path could be swapped for a FIFO between the stat and the open.
    const fd = openSync(real, constants.O_RDONLY | constants.O_NONBLOCK);
    try {
      const stats = fstatSync(fd);
      if (!stats.isFile()) throw invalid('is not a regular file (a folder, FIFO, socket or device)', 'external data must be a regular file');
      const count = wanted ?? stats.size - offset;
      if (count < 0 || offset + count > stats.size) throw invalid(`is ${stats.size} bytes; the model asks for ${count} at offset ${offset}`);
      if (count > MAX_EXTERNAL_TENSOR_BYTES) throw invalid(`would need ${count} bytes; tensors over ${MAX_EXTERNAL_TENSOR_BYTES} bytes are not supported`);
      const bytes = readExactly(fd, offset, count);
      if (!bytes) throw invalid(`ended before ${count} bytes at offset ${offset} could be read`);
      return bytes;
    } finally {
      closeSync(fd);
    }
  };
}

/** Loads an ONNX model file; external data is read lazily, from the model's folder only. */
export function loadModel(path: string): OnnxModel {
  const bytes = readFileChecked(path);
  return { ...parseModel(bytes, { source: path, readExternal: confinedExternalDataReader(dirname(resolve(path)), path) }), fileBytes: bytes };
}

/**
 * Writes `bytes` to `path` atomically: a temporary file in the same folder, then a
 * rename, so readers never see half a file and a failure leaves the old file intact.
 */
export function writeFileAtomic(path: string, bytes: Uint8Array | string): void {
  const target = resolve(path);
  const temporary = join(dirname(target), `.${basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    writeFileSync(temporary, bytes);
    renameSync(temporary, target);
  } catch (cause) {
    rmSync(temporary, { force: true });
    const code = (cause as NodeJS.ErrnoException).code;
    throw new DeprunError('FILE_UNREADABLE', `cannot write the file (${code ?? (cause as Error).message})`, {
      file: path,
      hint: 'check that the folder exists and is writable',
      cause,
    });
  }
}

function samePath(a: string, b: string): boolean {
  const real = (path: string) => {
    try {
      return realpathSync(path);
    } catch {
      return resolve(path);
    }
  };
  return real(a) === real(b);
}

/**
 * Serializes the model with all tensors inline and writes it atomically. Refuses to
 * write over the file the model was loaded from (inputs are never overwritten).
 */
export function saveModel(model: OnnxModel, path: string, options: { inputs?: readonly string[] } = {}): void {
  for (const input of [model.source, ...(options.inputs ?? [])]) {
    if (!input.startsWith('<') && samePath(input, path)) {
      throw new UsageError('refusing to overwrite the input model', { file: path, hint: 'choose another output path' });
    }
  }
  writeFileAtomic(path, serializeModel(model));
}
