#!/usr/bin/env node
// Runs the deprune CLI from a checkout: `npx -y pnpm@12.4.2 deprune <command> ...`
// (the root package.json's `deprune` and `demo` scripts point here).
//
// 1. Builds apps/cli and the workspace packages it depends on with turbo
//    (`turbo run build --filter=deprune...`). Turbo's cache makes this a quick no-op when
//    nothing changed. Turbo's output never reaches stdout (the CLI's `--json` output must
//    stay parseable): it is collected and printed to stderr only if the build fails.
// 2. Runs `node apps/cli/dist/cli.js <args>` with the same stdin/stdout/stderr and exits
//    with its exit code.
//
// Relative paths in the arguments mean what the user meant: pnpm runs root scripts in
// the repo root, so the CLI is started in the directory pnpm was called from (INIT_CWD).
import { spawn } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const cliEntry = join(repoRoot, 'apps/cli/dist/cli.js');
const turboBin = join(repoRoot, 'node_modules/.bin/turbo');
const CLI_PACKAGE = 'deprune';
/** After this long without the build finishing, say why the command is waiting. */
const SLOW_BUILD_NOTICE_MS = 1500;

const args = process.argv.slice(2);

function fail(message) {
  process.stderr.write(`deprune launcher: ${message}\n`);
  process.exit(1);
}

function build() {
  if (!existsSync(turboBin)) {
    fail(`${turboBin} not found: run \`npx -y pnpm@12.4.2 install\` in ${repoRoot} first`);
  }
  return new Promise((resolveBuild) => {
    const output = [];
    const child = spawn(turboBin, ['run', 'build', `--filter=${CLI_PACKAGE}...`, '--output-logs=errors-only'], {
      cwd: repoRoot,
      env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1', DO_NOT_TRACK: '1', TURBO_NO_UPDATE_NOTIFIER: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.on('data', (chunk) => output.push(chunk));
    child.stderr.on('data', (chunk) => output.push(chunk));
    const notice = setTimeout(() => {
      process.stderr.write('deprune launcher: building apps/cli and its workspace dependencies (turbo)...\n');
    }, SLOW_BUILD_NOTICE_MS);
    child.on('error', (error) => {
      clearTimeout(notice);
      fail(`could not start turbo: ${error.message}`);
    });
    child.on('close', (code, signal) => {
      clearTimeout(notice);
      if (code === 0) return resolveBuild();
      process.stderr.write(Buffer.concat(output));
      if (!process.env.npm_execpath) {
        // turbo looks for the package manager (pnpm) on PATH; pnpm puts itself there for scripts.
        process.stderr.write('deprune launcher: run it through pnpm: npx -y pnpm@12.4.2 deprune <command> ...\n');
      }
      fail(`building the CLI failed (turbo ${signal ? `killed by ${signal}` : `exited ${code}`}); nothing was run`);
    });
  });
}

function userCwd() {
  // Set by npm/pnpm for the script they run; only trust it when we are that script.
  const initCwd = process.env.INIT_CWD;
  if (process.env.npm_lifecycle_event && initCwd && existsSync(initCwd) && statSync(initCwd).isDirectory()) {
    return initCwd;
  }
  return process.cwd();
}

function runCli() {
  if (!existsSync(cliEntry)) fail(`the build succeeded but ${cliEntry} does not exist`);
  const child = spawn(process.execPath, [cliEntry, ...args], { cwd: userCwd(), stdio: 'inherit' });
  // The CLI gets Ctrl-C from the terminal itself (same process group); forward other
  // termination requests and let the CLI decide when to exit.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(signal, () => {
      if (signal !== 'SIGINT') child.kill(signal);
    });
  }
  child.on('error', (error) => fail(`could not start the CLI: ${error.message}`));
  child.on('close', (code, signal) => {
    if (signal) {
      // Exit the way the CLI did, so callers see the same signal.
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
      return;
    }
    process.exit(code ?? 1);
  });
}

await build();
runCli();
