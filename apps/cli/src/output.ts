/**
 * Everything the CLI prints goes through here. Results go to stdout (a human report, or
 * with `--json` exactly one JSON document); logs, warnings and progress go to stderr so
 * that `deprune ... --json > out.json` always captures one parseable document.
 */

/** The two streams the CLI writes to; `process.stdout`/`process.stderr` in the bin, buffers in tests. */
export interface CliIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown; isTTY?: boolean; columns?: number };
  /** Milliseconds clock (injectable so progress throttling can be tested). */
  now?: () => number;
}

export function processIo(): CliIo {
  return { stdout: process.stdout, stderr: process.stderr, now: () => Date.now() };
}

/**
 * Unicode format characters that reorder or hide text on a terminal: the bidirectional
 * embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069) and the marks (U+200E,
 * U+200F, U+061C), zero-width characters (U+200B-U+200D, U+2060, U+FEFF), and the line and
 * paragraph separators (U+2028, U+2029). A node name holding U+202E prints the rest of the line
 * reversed, so a message could show one file name and mean another.
 */
const FORMAT_CHARACTERS = '\u061c\u200b-\u200f\u2028-\u202e\u2060\u2066-\u2069\ufeff';

/**
 * A value as indented JSON that is safe on a terminal: JSON.stringify escapes C0 controls but
 * writes DEL, the C1 controls (U+0080-U+009F, e.g. U+009B, a one-character CSI) and the format
 * characters above raw, and a node name in a model can hold them. They become `\uXXXX` escapes,
 * the same JSON value.
 */
export function terminalSafeJson(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(new RegExp(`[\\u007f-\\u009f${FORMAT_CHARACTERS}]`, 'g'), (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * Control characters (C0 but tab and newline, DEL, C1) as visible `\xHH` escapes, and the format
 * characters above as `\u{XXXX}`. Node names, tensor names and paths come from files and flags;
 * printed raw, a `\r`, `ESC[2J` or NUL in a model could rewrite or clear the user's terminal.
 */
export function escapeControlCharacters(text: string): string {
  return text
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, (char) => `\\x${char.charCodeAt(0).toString(16).padStart(2, '0')}`)
    .replace(new RegExp(`[${FORMAT_CHARACTERS}]`, 'g'), (char) => `\\u{${char.charCodeAt(0).toString(16).padStart(4, '0')}}`);
}

export type Align = 'left' | 'right';

export interface TableOptions {
  /** Per-column alignment; numbers read best right-aligned. Defaults to left. */
  align?: readonly Align[];
  /** Spaces before every line. */
  indent?: number;
}

/** A plain-text table: a header row, a rule, the rows; columns padded to their widest cell. */
export function formatTable(headers: readonly string[], rows: readonly (readonly string[])[], options: TableOptions = {}): string {
  const widths = headers.map((header, column) => Math.max(header.length, ...rows.map((row) => (row[column] ?? '').length)));
  const indent = ' '.repeat(options.indent ?? 0);
  const line = (cells: readonly string[]) =>
    indent +
    cells
      .map((cell, column) => {
        const text = cell ?? '';
        const isLast = column === cells.length - 1;
        if (options.align?.[column] === 'right') return text.padStart(widths[column]);
        return isLast ? text : text.padEnd(widths[column]);
      })
      .join('  ')
      .trimEnd();
  const rule = indent + widths.map((width) => '-'.repeat(width)).join('  ');
  return [line(headers), rule, ...rows.map(line)].join('\n');
}

/** 1234567 -> '1,234,567'. */
export function formatCount(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}

/** A latency in ms to the digits that mean something: 41.3 -> '41', 1.87 -> '1.9'. */
export function formatMs(ms: number): string {
  return ms < 10 ? ms.toFixed(1) : ms.toFixed(0);
}

/** 312_345_678 -> '312.3M'; small numbers stay exact. */
export function formatShort(value: number): string {
  const abs = Math.abs(value);
  if (abs >= 1e9) return `${(value / 1e9).toFixed(2)}G`;
  if (abs >= 1e6) return `${(value / 1e6).toFixed(1)}M`;
  if (abs >= 1e4) return `${(value / 1e3).toFixed(1)}k`;
  return String(value);
}

export interface OutputOptions {
  json: boolean;
  verbose: boolean;
}

/**
 * A command's view of the terminal. Human text and the JSON document are mutually
 * exclusive on stdout: `print` is silent with `--json`, and `json` may be called once.
 */
export class Output {
  readonly json: boolean;
  readonly verbose: boolean;
  private jsonWritten = false;

  /** Whether the command's JSON document is out (so an error after it does not print a second one). */
  get wroteJson(): boolean {
    return this.jsonWritten;
  }

  constructor(
    private readonly io: CliIo,
    options: OutputOptions,
  ) {
    this.json = options.json;
    this.verbose = options.verbose;
  }

  /** A line of the human report (stdout); ignored with `--json`. */
  print(text = ''): void {
    if (!this.json) this.io.stdout.write(`${escapeControlCharacters(text)}\n`);
  }

  /** The command's one JSON document (stdout). Only with `--json`; a second call is a bug. */
  result(document: unknown): void {
    if (!this.json) return;
    if (this.jsonWritten) throw new Error('Output.result called twice: --json prints exactly one document');
    this.jsonWritten = true;
    this.io.stdout.write(`${terminalSafeJson(document)}\n`);
  }

  /** A message for the user on stderr (never stdout, so JSON stays clean). */
  log(message: string): void {
    this.io.stderr.write(`${escapeControlCharacters(message)}\n`);
  }

  /**
   * A warning on stderr, in human mode only (with `--json` warnings go in the document); with
   * `always`, with `--json` too, for a warning a script must not miss (stdout stays clean).
   */
  warn(message: string, options: { always?: boolean } = {}): void {
    if (!this.json || options.always) this.io.stderr.write(`deprune: warning: ${escapeControlCharacters(message)}\n`);
  }

  /** Only with `--verbose`. */
  debug(message: string): void {
    if (this.verbose) this.io.stderr.write(`${escapeControlCharacters(message)}\n`);
  }

  /** A progress reporter for long loops; see {@link Progress}. */
  progress(label: string, total?: number): Progress {
    return new Progress(this.io, label, total);
  }
}

/**
 * Progress on stderr only. On a terminal it is one line rewritten in place (`\r`); when
 * stderr is a file or pipe (CI logs) it prints a plain line at most every few seconds,
 * so logs stay short. It never touches stdout, so it is safe with `--json`.
 */
export class Progress {
  private lastDraw = Number.NEGATIVE_INFINITY;
  private current = 0;
  private finished = false;
  private readonly tty: boolean;
  private readonly now: () => number;
  /** Minimum milliseconds between redraws: fast on a terminal, sparse in logs. */
  private readonly interval: number;

  constructor(
    private readonly io: CliIo,
    private readonly label: string,
    private readonly total?: number,
  ) {
    this.tty = io.stderr.isTTY === true;
    this.now = io.now ?? (() => Date.now());
    this.interval = this.tty ? 100 : 5000;
  }

  private text(detail?: string): string {
    const count =
      this.total !== undefined && this.total > 0
        ? `${this.current}/${this.total} (${Math.floor((100 * this.current) / this.total)}%)`
        : `${this.current}`;
    return escapeControlCharacters(`${this.label}: ${count}${detail ? ` ${detail}` : ''}`);
  }

  /** Sets the position (absolute) and redraws if enough time has passed. */
  update(current: number, detail?: string): void {
    if (this.finished) return;
    this.current = current;
    const time = this.now();
    if (time - this.lastDraw < this.interval) return;
    this.lastDraw = time;
    if (this.tty) {
      const columns = this.io.stderr.columns ?? 80;
      this.io.stderr.write(`\r\x1b[2K${this.text(detail).slice(0, Math.max(10, columns - 1))}`);
    } else {
      this.io.stderr.write(`${this.text(detail)}\n`);
    }
  }

  /** Advances by `step`. */
  tick(step = 1, detail?: string): void {
    this.update(this.current + step, detail);
  }

  /** Final line: on a terminal it replaces the updating one. */
  done(message?: string): void {
    if (this.finished) return;
    this.finished = true;
    const text = message === undefined ? this.text('done') : escapeControlCharacters(message);
    this.io.stderr.write(this.tty ? `\r\x1b[2K${text}\n` : `${text}\n`);
  }
}
