/**
 * The command registry: a command is a plain object (name, summary, usage, flags, run)
 * and the CLI core only looks commands up here. New commands (prune, profile, run,
 * bench, demo, eval) are new files in src/commands/ added to the builtin list, or
 * registered by an embedder with `registry.register(...)`; the core never changes.
 */
import { UsageError, closestName } from '@deprune/errors';
import { commonFlags, helpHint, type ArgSpec, type FlagSpec, type ParsedArgs } from './args';
import type { CliIo, Output } from './output';

export interface CommandContext {
  args: ParsedArgs;
  out: Output;
  io: CliIo;
}

export interface Command {
  /** What the user types: `deprune <name>`. */
  name: string;
  /** One line for the command list. */
  summary: string;
  /** Usage lines without the leading `deprune`, e.g. `inspect <model> [--json]`. */
  usage: readonly string[];
  /** A paragraph or two for `--help`. */
  description?: string;
  args?: readonly ArgSpec[];
  flags?: Readonly<Record<string, FlagSpec>>;
  examples?: readonly string[];
  /** Does the work; resolves to the exit code (0 when nothing is returned). */
  run(context: CommandContext): Promise<number | void> | number | void;
}

export class CommandRegistry {
  private readonly commands = new Map<string, Command>();

  register(command: Command): this {
    if (!/^[a-z][a-z0-9-]*$/.test(command.name)) throw new Error(`command name '${command.name}' must be lower-case words`);
    if (this.commands.has(command.name)) throw new Error(`command '${command.name}' registered twice`);
    for (const flag of Object.keys(command.flags ?? {})) {
      if (flag in commonFlags) throw new Error(`command '${command.name}' redefines the common flag --${flag}`);
    }
    checkSpellingsUnique(command);
    this.commands.set(command.name, command);
    return this;
  }

  get(name: string): Command | undefined {
    return this.commands.get(name);
  }

  /** Like get, but an unknown name is a usage error that suggests the closest command. */
  require(name: string): Command {
    const command = this.commands.get(name);
    if (command) return command;
    const suggestion = closestName(name, [...this.commands.keys()]);
    throw new UsageError(`unknown command '${name}'${suggestion ? `; did you mean '${suggestion}'?` : ''}`, { hint: helpHint() });
  }

  list(): Command[] {
    return [...this.commands.values()];
  }
}

/** An alias that is also another flag's name (or another alias) would make a flag ambiguous. */
function checkSpellingsUnique(command: Command): void {
  const seen = new Set(Object.keys(commonFlags));
  for (const [name, flag] of Object.entries(command.flags ?? {})) {
    for (const spelling of [name, ...(flag.aliases ?? [])]) {
      if (seen.has(spelling)) throw new Error(`command '${command.name}' spells --${spelling} twice`);
      seen.add(spelling);
    }
  }
}

/** The help text's note on a flag's other spellings: ` (alias: --repeat)`. */
function aliasNote(flag: FlagSpec): string {
  const aliases = flag.aliases ?? [];
  return aliases.length === 0 ? '' : ` (alias${aliases.length > 1 ? 'es' : ''}: ${aliases.map((alias) => `--${alias}`).join(', ')})`;
}

function flagLabel(name: string, flag: FlagSpec): string {
  const short = flag.short ? `-${flag.short}, ` : '    ';
  const value = flag.type === 'string' ? ` <${flag.value ?? 'value'}>` : '';
  return `${short}--${name}${value}`;
}

function twoColumns(rows: readonly [string, string][], indent = 2): string[] {
  const width = Math.max(0, ...rows.map(([left]) => left.length));
  return rows.map(([left, right]) => `${' '.repeat(indent)}${left.padEnd(width)}  ${right}`.trimEnd());
}

/** `deprune <command> --help`. */
export function formatCommandHelp(command: Command): string {
  const lines: string[] = [`deprune ${command.name}: ${command.summary}`, '', 'Usage:'];
  for (const usage of command.usage) lines.push(`  deprune ${usage}`);
  if (command.description) lines.push('', ...command.description.trim().split('\n'));
  if (command.args && command.args.length > 0) {
    lines.push('', 'Arguments:', ...twoColumns(command.args.map((arg) => [`<${arg.name}>`, arg.description])));
  }
  const flags: [string, string][] = Object.entries({ ...(command.flags ?? {}), ...commonFlags }).map(([name, flag]) => [
    flagLabel(name, flag),
    flag.description + (flag.multiple ? ' (repeatable)' : '') + aliasNote(flag),
  ]);
  lines.push('', 'Flags:', ...twoColumns(flags));
  if (command.examples && command.examples.length > 0) {
    lines.push('', 'Examples:', ...command.examples.map((example) => `  ${example}`));
  }
  return `${lines.join('\n')}\n`;
}

/** `deprune --help`. */
export function formatTopHelp(registry: CommandRegistry, version: string): string {
  const lines = [
    `deprune ${version}: GPU-shaped pruning of depth-wise separable CNNs (ONNX in, ONNX out)`,
    '',
    'Usage:',
    '  deprune <command> [arguments] [flags]',
    '  deprune <command> --help',
    '',
    'Commands:',
    ...twoColumns(registry.list().map((command) => [command.name, command.summary])),
    '',
    'Common flags:',
    ...twoColumns([
      ...Object.entries(commonFlags).map(([name, flag]): [string, string] => [flagLabel(name, flag), flag.description]),
      ['    --version', 'print the version and exit'],
    ]),
    '',
    'Models: a path to an .onnx file, a bundled PaddleOCR model (ppocr-det, ppocr-rec,',
    'ppocr-cls), or zoo:<name>[:folded] (see `deprune zoo --list`). Tensors are .npy files.',
    'Exit status: 0 success, 2 bad usage or bad input, 1 anything else.',
  ];
  return `${lines.join('\n')}\n`;
}
