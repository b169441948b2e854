/**
 * The CLI core: finds the command, parses its flags, runs it, and turns every error into
 * one line on stderr and an exit code (2 for bad usage or input, 1 for anything else).
 */
import { DeprunError, UsageError } from '@deprune/errors';
import packageJson from '../package.json';
import { helpHint, parseCommandArgs, wantsHelp, wantsJson, wantsVerbose } from './args';
import { builtinCommands } from './commands';
import { escapeControlCharacters, Output, processIo, terminalSafeJson, type CliIo } from './output';
import { CommandRegistry, formatCommandHelp, formatTopHelp } from './registry';

export const version: string = packageJson.version;

export interface MainOptions {
  /** Streams to write to (default: the process's stdout and stderr). */
  io?: CliIo;
  /** Commands to offer (default: the builtin ones). */
  registry?: CommandRegistry;
}

/** A registry holding every builtin command; add yours with `.register(command)`. */
export function createRegistry(): CommandRegistry {
  const registry = new CommandRegistry();
  for (const command of builtinCommands) registry.register(command);
  return registry;
}

/** Flags that may come before the command name (`deprune --verbose inspect ...`). */
const LEADING_FLAGS = new Set(['--verbose', '--json']);

/** What dispatch leaves for error reporting: the command's Output, once there is one. */
interface DispatchState {
  out?: Output;
}

async function dispatch(argv: readonly string[], io: CliIo, registry: CommandRegistry, state: DispatchState): Promise<number> {
  const leading: string[] = [];
  let position = 0;
  while (position < argv.length && LEADING_FLAGS.has(argv[position])) leading.push(argv[position++]);
  const name = argv[position];
  const rest = [...argv.slice(position + 1), ...leading];
  if (name === undefined) throw new UsageError('no command given', { hint: helpHint() });
  if (name === '--help' || name === '-h' || (name === 'help' && rest.length === 0)) {
    io.stdout.write(formatTopHelp(registry, version));
    return 0;
  }
  if (name === '--version' || name === '-V') {
    io.stdout.write(`${version}\n`);
    return 0;
  }
  if (name === 'help') {
    io.stdout.write(formatCommandHelp(registry.require(rest[0])));
    return 0;
  }
  if (name.startsWith('-')) throw new UsageError(`unknown flag '${name}' before the command`, { hint: helpHint() });
  const command = registry.require(name);
  if (wantsHelp(rest)) {
    io.stdout.write(formatCommandHelp(command));
    return 0;
  }
  const args = parseCommandArgs(command, rest);
  const out = new Output(io, { json: args.json, verbose: args.verbose });
  state.out = out;
  const code = await command.run({ args, out, io });
  return typeof code === 'number' ? code : 0;
}

function isDeprunLike(error: unknown): error is DeprunError {
  if (error instanceof DeprunError) return true;
  // A second copy of @deprune/errors (a nested install) breaks instanceof; trust the shape.
  const candidate = error as Partial<DeprunError> | null;
  return (
    typeof candidate === 'object' &&
    candidate !== null &&
    typeof candidate.code === 'string' &&
    (candidate.exitCode === 1 || candidate.exitCode === 2) &&
    typeof candidate.message === 'string'
  );
}

/** One line, safe for a terminal: newlines folded, control characters escaped. */
function oneLine(text: string): string {
  return escapeControlCharacters(text.replace(/\s*\n\s*/g, ' ').trim());
}

/** The `--json` error document: `{ "error": { code, message, file?, node?, hint? } }`. */
export function errorDocument(error: unknown): { error: { code: string; message: string; file?: string; node?: string; hint?: string } } {
  if (!isDeprunLike(error)) {
    return { error: { code: 'INTERNAL', message: `internal error: ${(error instanceof Error ? error.message : String(error)).replace(/\s*\n\s*/g, ' ').trim()}` } };
  }
  const { code, file, node, hint } = error;
  return {
    error: {
      code,
      message: error.message.replace(/\s*\n\s*/g, ' ').trim(),
      ...(file === undefined ? {} : { file }),
      ...(node === undefined ? {} : { node }),
      ...(hint === undefined ? {} : { hint }),
    },
  };
}

function stackOf(error: unknown): string {
  const lines: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current !== undefined && current !== null && depth < 5; depth++) {
    const stack = current instanceof Error ? (current.stack ?? String(current)) : String(current);
    lines.push(depth === 0 ? stack : `caused by: ${stack}`);
    current = current instanceof Error ? current.cause : undefined;
  }
  return `${lines.join('\n')}\n`;
}

/**
 * Prints an error the way the CLI does and returns the exit code: one line on stderr, and with
 * `json` the error document on stdout (so `deprune ... --json > out.json` always gets one
 * parseable document), unless the command had already printed its own.
 */
export function reportError(error: unknown, io: CliIo, verbose: boolean, json = false, out?: Output): number {
  if (json && !(out?.wroteJson ?? false)) io.stdout.write(`${terminalSafeJson(errorDocument(error))}\n`);
  if (isDeprunLike(error)) {
    io.stderr.write(`deprune: ${oneLine(error.message)}\n`);
    if (verbose) io.stderr.write(stackOf(error));
    return error.exitCode;
  }
  const message = error instanceof Error ? error.message : String(error);
  io.stderr.write(`deprune: internal error: ${oneLine(message)}${verbose ? '' : ' (run with --verbose for details)'}\n`);
  if (verbose) io.stderr.write(stackOf(error));
  return 1;
}

/**
 * Runs the CLI with `argv` (without `node` and the script) and resolves to the exit code.
 * Never throws and never calls process.exit, so it can be embedded and tested in-process.
 */
export async function main(argv: readonly string[], options: MainOptions = {}): Promise<number> {
  const io = options.io ?? processIo();
  const verbose = wantsVerbose(argv);
  const state: DispatchState = {};
  try {
    return await dispatch(argv, io, options.registry ?? createRegistry(), state);
  } catch (error) {
    return reportError(error, io, verbose, wantsJson(argv), state.out);
  }
}
