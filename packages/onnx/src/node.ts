/**
 * The Node.js edge of @deprune/onnx (`@deprune/onnx/node`): files in and out. Everything
 * else in the package is pure and runs in the browser too.
 */
import { closeSync, fstatSync, openSync, readSync, readFileSync, realpathSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { randomBytes } from 'node:crypto';
import { DeprunError, ModelFileError, UnsafePathError, UsageError } from '@deprune/errors';
import { parseModel, serializeModel, type OnnxModel } from './model';
import type { ExternalDataReader } from './tensor-proto';

/** Reads a whole file with errors that name it and say what to do. */
export function readFileChecked(path: string): Uint8Array {
  try {
    if (statSync(path).isDirectory()) {
      throw new ModelFileError('FILE_UNREADABLE', 'is a folder, not a file', { file: path, hint: 'pass the .onnx file itself' });
    }
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
 * External data reader confined to `folder`: a location that is absolute, climbs out
 * with '..', or is a link that resolves outside the folder is refused. (A model file
 * could otherwise make us read any file on the machine.)
 */
export function confinedExternalDataReader(folder: string, modelFile: string): ExternalDataReader {
  const realFolder = realpathSync(folder);
  return (location, offset, length) => {
    const refuse = (why: string) =>
      new UnsafePathError(`external data '${location}' ${why}`, {
        file: modelFile,
        hint: "external data must be a file inside the model's folder",
      });
    if (isAbsolute(location) || location.includes('\0')) throw refuse('is an absolute path');
    const candidate = resolve(realFolder, location);
    if (!isInside(realFolder, candidate)) throw refuse('resolves outside the model folder');
    let real: string;
    try {
      real = realpathSync(candidate);
    } catch (cause) {
      throw new ModelFileError('FILE_NOT_FOUND', `external data file '${location}' is missing`, { file: modelFile, cause });
    }
    if (!isInside(realFolder, real)) throw refuse('is a link that points outside the model folder');
    const fd = openSync(real, 'r');
    try {
      const size = fstatSync(fd).size;
      const count = length ?? size - offset;
      if (offset < 0 || count < 0 || offset + count > size) {
        throw new ModelFileError('INVALID_MODEL', `external data '${location}' is ${size} bytes; the model asks for ${count} at offset ${offset}`, {
          file: modelFile,
          hint: 'the external data file is truncated or belongs to another model',
        });
      }
      const bytes = new Uint8Array(count);
      let done = 0;
      while (done < count) {
        const read = readSync(fd, bytes, done, count - done, offset + done);
        if (read === 0) break;
        done += read;
      }
      return bytes;
    } finally {
      closeSync(fd);
    }
  };
}

/** Loads an ONNX model file; external data is read lazily, from the model's folder only. */
export function loadModel(path: string): OnnxModel {
  const bytes = readFileChecked(path);
  return parseModel(bytes, { source: path, readExternal: confinedExternalDataReader(dirname(resolve(path)), path) });
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
