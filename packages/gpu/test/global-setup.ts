/**
 * vitest globalSetup (runs once, in the main process, before the test workers start):
 *
 * - picks the run's parity seed (fresh random inputs every run; DEPRUNE_PARITY_SEED=<n> replays a
 *   run) and hands it to the workers through the environment;
 * - gives the `headlessgl` mode a display: when DISPLAY is unset and `Xvfb` is on the PATH, starts
 *   one (`Xvfb -displayfd`, which picks a free display number itself; screen 1280x1024x24, no TCP)
 *   and sets DISPLAY for the workers; teardown stops it. No Xvfb: nothing to do here, and the
 *   headlessgl suites are skipped with a note (or fail, when GPU modes are required).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

const XVFB_START_TIMEOUT_MS = 15_000;

function findOnPath(command: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, command);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Starts Xvfb on a free display; resolves to the process and its display (":<n>"), or rejects saying why. */
function startXvfb(executable: string): Promise<{ xvfb: ChildProcess; display: string }> {
  return new Promise((resolve, reject) => {
    // fd 3 is a pipe on which Xvfb writes the display number it took once it accepts connections.
    const xvfb = spawn(executable, ['-displayfd', '3', '-screen', '0', '1280x1024x24', '-nolisten', 'tcp'], { stdio: ['ignore', 'ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let announced = '';
    const fail = (why: string) => {
      clearTimeout(timer);
      if (xvfb.exitCode === null) xvfb.kill('SIGKILL');
      reject(new Error(`${why}${stderr.trim() ? `: ${stderr.trim().split('\n').slice(-3).join(' | ')}` : ''}`));
    };
    const timer = setTimeout(() => fail(`Xvfb did not report a display within ${XVFB_START_TIMEOUT_MS} ms`), XVFB_START_TIMEOUT_MS);
    xvfb.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const displayPipe = xvfb.stdio[3] as NodeJS.ReadableStream | null;
    displayPipe?.on('data', (chunk: Buffer) => {
      announced += chunk.toString();
      const match = announced.match(/^(\d+)\n/);
      if (match) {
        clearTimeout(timer);
        resolve({ xvfb, display: `:${match[1]}` });
      }
    });
    xvfb.on('error', (error) => fail(`Xvfb failed to start (${error.message})`));
    xvfb.on('exit', (code, signal) => fail(`Xvfb exited early (${signal ?? `status ${code}`})`));
  });
}

function stop(xvfb: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (xvfb.exitCode !== null || xvfb.signalCode !== null) return resolve();
    const timer = setTimeout(() => {
      xvfb.kill('SIGKILL');
      resolve();
    }, 5_000);
    xvfb.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    xvfb.kill('SIGTERM');
  });
}

export default async function setup(): Promise<() => Promise<void>> {
  if (!process.env.DEPRUNE_PARITY_SEED) process.env.DEPRUNE_PARITY_SEED = String(Math.floor(Math.random() * 2 ** 31));
  console.log(`@deprune/gpu parity seed ${process.env.DEPRUNE_PARITY_SEED} (replay with DEPRUNE_PARITY_SEED=${process.env.DEPRUNE_PARITY_SEED})`);

  let xvfb: ChildProcess | undefined;
  if (!process.env.DISPLAY) {
    const executable = findOnPath('Xvfb');
    if (executable === undefined) {
      console.log('no DISPLAY and no Xvfb on the PATH: the headlessgl mode has no display (apt package xvfb)');
    } else {
      try {
        const started = await startXvfb(executable);
        xvfb = started.xvfb;
        xvfb.removeAllListeners('exit');
        process.env.DISPLAY = started.display;
        console.log(`started Xvfb on display ${started.display} (pid ${xvfb.pid}) for the headlessgl mode`);
      } catch (error) {
        console.warn(`could not start Xvfb for the headlessgl mode: ${(error as Error).message}`);
      }
    }
  }

  return async () => {
    if (xvfb === undefined) return;
    await stop(xvfb);
    delete process.env.DISPLAY;
  };
}
