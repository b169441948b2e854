/**
 * Flag parsing: a thin wrapper over `node:util` parseArgs that knows each command's
 * flags, adds the common ones (--help, --json, --verbose) and turns every parse problem
 * into a UsageError (exit 2) that points at `--help`.
 */
import { parseArgs } from 'node:util';
import { UsageError, closestName } from '@deprune/errors';

export interface FlagSpec {
  type: 'string' | 'boolean';
  /** One-letter alias: 'o' for -o. */
  short?: string;
  /** May be repeated (`--input-shape a=1,3,8,8 --input-shape b=...`). */
  multiple?: boolean;
  /** Placeholder in help text: `--output <file>`. */
  value?: string;
  /**
   * Other long spellings that mean this flag (`repeat` for `--repeats`): commands grew
   * different spellings of the same idea, and the old ones keep working.
   */
  aliases?: readonly string[];
  description: string;
}

export interface ArgSpec {
  name: string;
  description: string;
  optional?: boolean;
}

/** Flags every command accepts. */
export const commonFlags: Readonly<Record<string, FlagSpec>> = {
  help: { type: 'boolean', short: 'h', description: 'show this help and exit' },
  json: { type: 'boolean', description: 'print exactly one JSON document on stdout (logs go to stderr)' },
  verbose: { type: 'boolean', description: 'more detail on stderr; stack traces on errors' },
};

/**
 * --repeats: timed runs, spelled the same in every command that times something. `--repeat`
 * (what run and demo used to take) stays an alias.
 */
export function repeatsFlag(description: string): FlagSpec {
  return { type: 'string', value: 'N', aliases: ['repeat'], description };
}

/** --output/-o: where a command writes its file. `--out` (bench's spelling) stays an alias. */
export function outputFlag(value: string, description: string): FlagSpec {
  return { type: 'string', short: 'o', value, aliases: ['out'], description };
}

/** What parseCommandArgs needs to know about a command. */
export interface ArgsSpec {
  name: string;
  args?: readonly ArgSpec[];
  flags?: Readonly<Record<string, FlagSpec>>;
}

type FlagValue = string | boolean | string[] | boolean[] | undefined;

/** Parsed flags and positionals with typed, validating getters. */
export class ParsedArgs {
  constructor(
    readonly command: string,
    private readonly values: Readonly<Record<string, FlagValue>>,
    readonly positionals: readonly string[],
  ) {}

  get json(): boolean {
    return this.values.json === true;
  }

  get verbose(): boolean {
    return this.values.verbose === true;
  }

  /** Whether the flag was given at all. */
  has(name: string): boolean {
    return this.values[name] !== undefined;
  }

  boolean(name: string): boolean {
    return this.values[name] === true;
  }

  /** A single-valued string flag (the last one wins if repeated). */
  string(name: string): string | undefined {
    const value = this.values[name];
    if (Array.isArray(value)) return value.length > 0 ? String(value[value.length - 1]) : undefined;
    return typeof value === 'string' ? value : undefined;
  }

  /** A repeatable string flag, in the order given. */
  strings(name: string): string[] {
    const value = this.values[name];
    if (value === undefined) return [];
    return Array.isArray(value) ? value.map(String) : [String(value)];
  }

  /** An integer flag, checked against an inclusive range. */
  integer(name: string, range: { min?: number; max?: number } = {}): number | undefined {
    const text = this.string(name);
    if (text === undefined) return undefined;
    const value = /^[+-]?\d+$/.test(text.trim()) ? Number(text) : Number.NaN;
    const { min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER } = range;
    if (!Number.isSafeInteger(value) || value < min || value > max) {
      const bounds = range.min !== undefined && range.max !== undefined ? ` from ${min} to ${max}` : range.min !== undefined ? ` >= ${min}` : '';
      throw new UsageError(`--${name} must be an integer${bounds}, got '${text}'`, { hint: helpHint(this.command) });
    }
    return value;
  }

  /** The i-th positional argument (already checked to be present when required). */
  positional(index: number): string | undefined {
    return this.positionals[index];
  }
}

export function helpHint(command?: string): string {
  return command ? `run 'deprune ${command} --help' for usage` : "run 'deprune --help' for the list of commands";
}

/** True when `--help`/`-h` appears before a `--` terminator: help wins over every other flag. */
export function wantsHelp(argv: readonly string[]): boolean {
  for (const token of argv) {
    if (token === '--') return false;
    if (token === '--help' || token === '-h') return true;
  }
  return false;
}

/** True when `--verbose` appears before a `--` terminator (read early, for error printing). */
export function wantsVerbose(argv: readonly string[]): boolean {
  for (const token of argv) {
    if (token === '--') return false;
    if (token === '--verbose') return true;
  }
  return false;
}

/** True when `--json` appears before a `--` terminator (read early, so errors are JSON documents too). */
export function wantsJson(argv: readonly string[]): boolean {
  for (const token of argv) {
    if (token === '--') return false;
    if (token === '--json') return true;
  }
  return false;
}

/** The flag a parseArgs message is about: its long name when the message has one. */
function flagInMessage(message: string): string | undefined {
  const long = /--([A-Za-z0-9][\w-]*)/.exec(message)?.[1];
  if (long) return `--${long}`;
  return /'(-[^' ,.]+)/.exec(message)?.[1];
}

/** Every long spelling a command knows (names and aliases), for "did you mean". */
function knownSpellings(flags: Readonly<Record<string, FlagSpec>>): string[] {
  return Object.entries(flags).flatMap(([name, flag]) => [name, ...(flag.aliases ?? [])]);
}

/** The message for a flag the command does not know, with the closest known spelling. */
function unknownFlagMessage(option: string | undefined, flags: Readonly<Record<string, FlagSpec>>, command: string): string {
  const suggestion = option?.startsWith('--') ? closestName(option.slice(2), knownSpellings(flags)) : undefined;
  return `unknown flag '${option ?? '?'}' for '${command}'${suggestion ? `; did you mean --${suggestion}?` : ''}`;
}

type ParseOption = { type: 'string' | 'boolean'; short?: string; multiple?: boolean };

/** parseArgs options: each flag under its name, and again under each alias. */
function parseOptions(flags: Readonly<Record<string, FlagSpec>>): { options: Record<string, ParseOption>; canonical: Map<string, string> } {
  const options: Record<string, ParseOption> = {};
  const canonical = new Map<string, string>();
  for (const [name, flag] of Object.entries(flags)) {
    options[name] = { type: flag.type, ...(flag.short ? { short: flag.short } : {}), ...(flag.multiple ? { multiple: true } : {}) };
    canonical.set(name, name);
    for (const alias of flag.aliases ?? []) {
      options[alias] = { type: flag.type, ...(flag.multiple ? { multiple: true } : {}) };
      canonical.set(alias, name);
    }
  }
  return { options, canonical };
}

/**
 * The values under each flag's main name, rebuilt from parseArgs' tokens so that an alias and
 * its flag given together keep their order (the last single value wins; repeatable ones append).
 */
function valuesByName(tokens: readonly { kind: string; name?: string; value?: string }[], flags: Readonly<Record<string, FlagSpec>>, canonical: ReadonlyMap<string, string>): Record<string, FlagValue> {
  const values: Record<string, FlagValue> = {};
  for (const token of tokens) {
    if (token.kind !== 'option' || token.name === undefined) continue;
    const name = canonical.get(token.name) ?? token.name;
    const value = flags[name]?.type === 'string' ? (token.value ?? '') : true;
    if (flags[name]?.multiple) values[name] = [...((values[name] as string[] | undefined) ?? []), String(value)];
    else values[name] = value;
  }
  return values;
}

/** Parses `argv` (the tokens after the command name) against the command's flags. */
export function parseCommandArgs(spec: ArgsSpec, argv: readonly string[]): ParsedArgs {
  const flags = { ...commonFlags, ...(spec.flags ?? {}) };
  const { options, canonical } = parseOptions(flags);
  const hint = helpHint(spec.name);
  let parsed: { values: Record<string, FlagValue>; positionals: string[] };
  try {
    const result = parseArgs({ args: [...argv], options, allowPositionals: true, strict: true, tokens: true });
    parsed = { values: valuesByName(result.tokens, flags, canonical), positionals: result.positionals };
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    const message = (cause as Error).message;
    const option = flagInMessage(message);
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      throw new UsageError(unknownFlagMessage(option, flags, spec.name), { hint, cause });
    }
    if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
      const what = /does not take an argument/.test(message) ? 'takes no value' : 'needs a value';
      throw new UsageError(`flag '${option ?? '?'}' ${what}`, { hint, cause });
    }
    throw new UsageError(message.split('\n')[0], { hint, cause });
  }
  const args = spec.args ?? [];
  const required = args.filter((arg) => !arg.optional).length;
  if (parsed.positionals.length > args.length) {
    const extra = parsed.positionals[args.length];
    throw new UsageError(`unexpected argument '${extra}' for '${spec.name}'`, { hint });
  }
  if (parsed.positionals.length < required && parsed.values.help !== true) {
    const missing = args[parsed.positionals.length];
    throw new UsageError(`missing <${missing.name}> for '${spec.name}'`, { hint });
  }
  for (const [name, flag] of Object.entries(flags)) {
    if (flag.type !== 'string') continue;
    for (const value of [parsed.values[name]].flat()) {
      if (value === '') throw new UsageError(`flag '--${name}' needs a value`, { hint });
    }
  }
  return new ParsedArgs(spec.name, parsed.values, parsed.positionals);
}
