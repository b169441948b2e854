#!/usr/bin/env node
/** The `deprune` executable. All logic lives in main(); this file only wires the process. */
import { main } from './main';
import { cleanUpTemporariesOnSignals } from './publish';

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
