/**
 * The deprune CLI as a library: `main(argv)` runs a command line in-process and resolves
 * to the exit code; the registry, flag parser, output helpers and .npy codec are the
 * pieces new commands are built from.
 */
export { main, createRegistry, reportError, errorDocument, version } from './main';
export type { MainOptions } from './main';
export { CommandRegistry, formatCommandHelp, formatTopHelp } from './registry';
export type { Command, CommandContext } from './registry';
export { parseCommandArgs, ParsedArgs, commonFlags, helpHint } from './args';
export type { FlagSpec, ArgSpec, ArgsSpec } from './args';
export { Output, Progress, formatTable, formatCount, formatShort, processIo, escapeControlCharacters } from './output';
export type { CliIo, OutputOptions, TableOptions, Align } from './output';
export { readNpy, encodeNpy } from './npy';
export { publishFiles, writeTemporaryNextTo, removeLiveTemporaries, liveTemporaryFiles, cleanUpTemporariesOnSignals } from './publish';
export type { OutputFile } from './publish';
export type { NpyArray, NpyDtype } from './npy';
export { resolveModel, bundledModels, bundledModelPath, zooModelNames, verifyModelData } from './models';
export type { ResolvedModel, BundledModel } from './models';
export { parseInputShapeFlags, resolveInputShapes, graphInputs } from './shapes';
export type { InputShapeFlags, ResolvedInputShape, DeclaredDim } from './shapes';
export { builtinCommands } from './commands';
