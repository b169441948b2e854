/**
 * Every failure a user can cause or fix is a DeprunError: it carries a stable `code`,
 * names the thing at fault (file, ONNX node, layer) and says what to do about it.
 * The CLI prints `message` as one line and maps `exitCode` to the process exit code
 * (2 = bad usage or bad input, 1 = anything else).
 */
export type DeprunErrorCode =
  | 'BAD_USAGE'
  | 'FILE_NOT_FOUND'
  | 'FILE_UNREADABLE'
  | 'INVALID_MODEL'
  | 'UNSAFE_PATH'
  | 'UNSUPPORTED'
  | 'BAD_SHAPE'
  | 'BAD_DTYPE'
  | 'BAD_CONFIG'
  | 'INTERNAL';

export interface DeprunErrorDetails {
  /** File the error is about, if any. */
  file?: string;
  /** ONNX node name (or tensor name) the error is about, if any. */
  node?: string;
  /** What the user can do about it; appended to the message. */
  hint?: string;
  /** The underlying error, kept for `--verbose`. */
  cause?: unknown;
}

export class DeprunError extends Error {
  readonly code: DeprunErrorCode;
  readonly file?: string;
  readonly node?: string;
  readonly hint?: string;

  constructor(code: DeprunErrorCode, message: string, details: DeprunErrorDetails = {}) {
    super(formatMessage(message, details), details.cause === undefined ? undefined : { cause: details.cause });
    this.name = new.target.name;
    this.code = code;
    this.file = details.file;
    this.node = details.node;
    this.hint = details.hint;
  }

  /** 2 for anything the user's input or flags caused, 1 for the rest. */
  get exitCode(): 1 | 2 {
    return this.code === 'INTERNAL' ? 1 : 2;
  }
}

function formatMessage(message: string, { file, node, hint }: DeprunErrorDetails): string {
  const where = [file, node === undefined ? undefined : `node '${node}'`].filter((part) => part !== undefined);
  const prefix = where.length > 0 ? `${where.join(': ')}: ` : '';
  return `${prefix}${message}${hint ? ` (${hint})` : ''}`;
}

/** Bad command-line flags or config values. */
export class UsageError extends DeprunError {
  constructor(message: string, details: DeprunErrorDetails = {}) {
    super('BAD_USAGE', message, details);
  }
}

/** A file that is missing, unreadable, or not a valid model. */
export class ModelFileError extends DeprunError {}

/**
 * A model whose graph onnxruntime and the ONNX checker would refuse: a node reading a value nothing
 * defines, a value assigned twice, a cycle, a Conv `group` that does not divide its channels.
 * Names the node at fault.
 */
export class InvalidGraphError extends ModelFileError {
  constructor(message: string, details: DeprunErrorDetails = {}) {
    super('INVALID_MODEL', message, details);
  }
}

/** An external-data path (or any other path from a file) that escapes the model's folder. */
export class UnsafePathError extends DeprunError {
  constructor(message: string, details: DeprunErrorDetails = {}) {
    super('UNSAFE_PATH', message, details);
  }
}

/** An operator, attribute or data type we do not handle. */
export class UnsupportedError extends DeprunError {
  constructor(message: string, details: DeprunErrorDetails = {}) {
    super('UNSUPPORTED', message, details);
  }
}

/** Tensor shapes or dtypes that do not fit together. */
export class ShapeError extends DeprunError {
  constructor(message: string, details: DeprunErrorDetails = {}) {
    super('BAD_SHAPE', message, details);
  }
}

export function isDeprunError(error: unknown): error is DeprunError {
  return error instanceof DeprunError;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length];
}

/**
 * The candidate closest to a mistyped name (case-insensitive edit distance at most 2), for
 * "did you mean" hints; undefined when nothing is that close.
 */
export function closestName(name: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of candidates) {
    const distance = editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}
