/**
 * The builtin commands, in the order `deprune --help` lists them. A new command is a new
 * file here exporting a `Command`, plus one line in this list.
 */
import type { Command } from '../registry';
import { inspectCommand } from './inspect';
import { pruneCommand } from './prune';
import { zooCommand } from './zoo';
import { profileCommand } from './profile';
import { benchCommand } from './bench';
import { runCommand } from './run';
import { demoCommand } from './demo';
import { evalCommand } from './eval';

export const builtinCommands: readonly Command[] = [demoCommand, inspectCommand, zooCommand, pruneCommand, runCommand, evalCommand, profileCommand, benchCommand];
