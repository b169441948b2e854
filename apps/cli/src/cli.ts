#!/usr/bin/env node
/** The `deprune` executable. All logic lives in main(); this file only wires the process. */
import { setFlagsFromString } from 'node:v8';
import { main } from './main';
import { cleanUpTemporariesOnSignals } from './publish';

// Process-wide V8 flags, set by this executable only (not something a library should change
// under its user), before any WebAssembly is compiled:
// - compile WebAssembly with the optimizing compiler up front. By default V8 runs a module's
//   functions in its baseline compiler first and tiers each one up only after enough calls: the
//   wasm backend's kernels (a few calls per layer per run) then run unoptimized for the first
//   runs of a model, which is most of a `deprune run --repeats 5`;
// - relaxed SIMD, which Node 20 validates only behind this flag (Chromium by default): the wasm
//   backend's FMA build, 7-10% faster on whole models here, tested in CI like the plain one.
setFlagsFromString('--no-wasm-dynamic-tiering');
setFlagsFromString('--experimental-wasm-relaxed-simd');

// Ctrl-C or kill while an output is being written: remove its temporary file, then die of the signal.
cleanUpTemporariesOnSignals();

// `deprune inspect m --json | head` closes stdout early: stop quietly, as Unix tools do.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

main(process.argv.slice(2)).then((code) => {
  // exitCode, not exit(): pending stdout writes (a large JSON document into a pipe) still flush.
  process.exitCode = code;
});
