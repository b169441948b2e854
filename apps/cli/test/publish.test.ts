import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fnv1a32 } from '@deprune/pipeline';
import { liveTemporaryFiles, publishFiles } from '../src/publish';
import { assertBuilt, CLI, cleanup, runCli, runCliAsync, tempDir, type CliResult } from './helpers';

/**
 * Issue 16, item 5: the model and its plan are published so that a signal or a second writer never
 * leaves a model beside another run's plan (undetected), a model without its plan, or a hidden
 * temporary file; the existence check is repeated at the moment of writing.
 */

const INDEX = CLI.replace(/cli\.js$/, 'index.js');
const MODEL = 'zoo:mobilenetv3-small';

let folder: string;
beforeAll(() => {
  assertBuilt();
  folder = tempDir('deprune-publish-');
});
afterAll(() => cleanup(folder));

const temporariesIn = (where: string) => readdirSync(where).filter((name) => name.endsWith('.tmp'));

/** The last stderr line of a refusal: exit 2, one `deprune: ` line, no stack. */
function refusal(result: CliResult): string {
  expect(result.status, result.stderr).toBe(2);
  const lines = result.stderr.trimEnd().split('\n');
  expect(lines[lines.length - 1]).toMatch(/^deprune: /);
  expect(result.stderr).not.toMatch(/internal error|\bat .*:\d+:\d+/);
  return lines[lines.length - 1];
}

/** Whether `plan` records the hash and size of `model`'s bytes (what run and eval check). */
function pairIsConsistent(model: string, plan: string): boolean {
  const recorded = (JSON.parse(readFileSync(plan, 'utf8')) as { output: { hash: string; bytes: number } }).output;
  const bytes = readFileSync(model);
  return recorded.bytes === bytes.length && recorded.hash === fnv1a32(bytes);
}

describe('publishFiles (in-process)', () => {
  it('creates files in order, refuses one that exists without force, withdraws what it created, and leaves no temporary file', async () => {
    const where = join(folder, 'unit');
    mkdirSync(where);
    const first = join(where, 'a.deprune.json');
    const second = join(where, 'a.onnx');
    await publishFiles([{ path: first, bytes: 'plan 1' }, { path: second, bytes: 'model 1' }], { force: false });
    expect(readFileSync(second, 'utf8')).toBe('model 1');

    // Another writer took the model's name meanwhile: the plan this call created is withdrawn.
    const third = join(where, 'b.deprune.json');
    await expect(publishFiles([{ path: third, bytes: 'plan 2' }, { path: second, bytes: 'model 2' }], { force: false })).rejects.toThrow(
      /a\.onnx: appeared while deprune was working \(another process wrote it\); not overwriting it/,
    );
    expect(existsSync(third)).toBe(false);
    expect(readFileSync(second, 'utf8')).toBe('model 1');

    await publishFiles([{ path: first, bytes: 'plan 3' }, { path: second, bytes: 'model 3' }], { force: true });
    expect(readFileSync(first, 'utf8')).toBe('plan 3');
    expect(readFileSync(second, 'utf8')).toBe('model 3');
    expect(temporariesIn(where)).toEqual([]);
    expect(liveTemporaryFiles()).toEqual([]);
  });
});

interface ScriptEnd {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

/** Spawns node with `script` (an ES module); `onLine` sees each stdout line. */
function startScript(script: string, onLine: (line: string) => void = () => undefined): { child: ChildProcess; ended: Promise<ScriptEnd> } {
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => chunk.split('\n').filter(Boolean).forEach(onLine));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const ended = new Promise<ScriptEnd>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve({ code, signal, stderr }));
  });
  return { child, ended };
}

describe('temporary files on SIGINT and SIGTERM', () => {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`${signal} removes a live temporary file, then the process dies of ${signal}`, async () => {
      const where = join(folder, `signal-${signal}`);
      mkdirSync(where);
      // The executable's wiring: a temporary file is alive (a write in progress) when the signal comes.
      const script = `
        import { cleanUpTemporariesOnSignals, writeTemporaryNextTo } from ${JSON.stringify(INDEX)};
        cleanUpTemporariesOnSignals();
        console.log(writeTemporaryNextTo(${JSON.stringify(join(where, 'out.onnx'))}, new Uint8Array(1 << 20)));
        setInterval(() => {}, 1000);
      `;
      let temporary = '';
      const { child, ended: end } = startScript(script, (line) => {
        temporary = line;
        expect(existsSync(temporary)).toBe(true);
        child.kill(signal);
      });
      const ended = await end;
      expect(ended.stderr).toBe('');
      expect(ended.signal).toBe(signal);
      expect(temporary).toMatch(/\.out\.onnx\.\d+\.[0-9a-f]{8}\.tmp$/);
      expect(existsSync(temporary)).toBe(false);
      expect(temporariesIn(where)).toEqual([]);
    });
  }

  it('a signal while the temporary files are written publishes nothing and removes them; the process dies of it', async () => {
    const where = join(folder, 'signal-while-writing');
    mkdirSync(where);
    // Large files, so the signal surely lands while the second one is still being written.
    const script = `
      import { cleanUpTemporariesOnSignals, publishFiles } from ${JSON.stringify(INDEX)};
      cleanUpTemporariesOnSignals();
      await publishFiles([{ path: ${JSON.stringify(join(where, 'out.deprune.json'))}, bytes: new Uint8Array(1 << 20) }, { path: ${JSON.stringify(join(where, 'out.onnx'))}, bytes: new Uint8Array(256 << 20) }], { force: false });
      console.log('published');
    `;
    const { child, ended: end } = startScript(script);
    const watch = setInterval(() => temporariesIn(where).length > 0 && (clearInterval(watch), child.kill('SIGINT')), 1);
    const ended = await end;
    clearInterval(watch);
    expect(ended.signal).toBe('SIGINT');
    expect(readdirSync(where)).toEqual([]);
  }, 60_000);

  it('prune killed with SIGINT or SIGTERM at any moment leaves no temporary file, and the model only with its plan', async () => {
    // Each trial kills at a different moment: during the work, or as soon as a temporary file appears.
    const trials = [
      { signal: 'SIGINT', when: 'at 150 ms' },
      { signal: 'SIGTERM', when: 'at 400 ms' },
      { signal: 'SIGINT', when: 'on the first temporary file' },
      { signal: 'SIGTERM', when: 'on the first temporary file' },
    ] as const;
    for (const [trial, { signal, when }] of trials.entries()) {
      const where = join(folder, `kill-${trial}`);
      mkdirSync(where);
      const child = spawn(process.execPath, [CLI, 'prune', MODEL, '-o', 'out.onnx'], { cwd: where, stdio: 'ignore' });
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      const kill = () => child.exitCode === null && child.signalCode === null && child.kill(signal);
      if (when === 'on the first temporary file') {
        const watch = setInterval(() => temporariesIn(where).length > 0 && (kill(), clearInterval(watch)), 1);
        void exited.then(() => clearInterval(watch));
      } else {
        setTimeout(kill, when === 'at 150 ms' ? 150 : 400);
      }
      await exited;
      const model = join(where, 'out.onnx');
      const plan = join(where, 'out.deprune.json');
      expect(temporariesIn(where), `${signal} ${when}`).toEqual([]);
      // The plan is published first: a model never stands without its plan.
      if (existsSync(model)) {
        expect(existsSync(plan), `${signal} ${when}`).toBe(true);
        expect(pairIsConsistent(model, plan)).toBe(true);
      }
    }
  }, 120_000);
});

describe('a model and a plan that were not written together', () => {
  it('two concurrent prunes to the same -o without --force: one exits 0, the other 2, and the survivors are a pair', async () => {
    const where = join(folder, 'race');
    mkdirSync(where);
    const results = await Promise.all([0.3, 0.6].map((ratio) => runCliAsync(['prune', MODEL, '-o', 'out.onnx', '--ratio', String(ratio)], { cwd: where })));
    expect(results.map((result) => result.status).sort()).toEqual([0, 2]);
    const loser = results.find((result) => result.status === 2)!;
    expect(refusal(loser)).toMatch(/^deprune: out\.(onnx|deprune\.json): (already exists|appeared while deprune was working)/);
    expect(temporariesIn(where)).toEqual([]);
    expect(pairIsConsistent(join(where, 'out.onnx'), join(where, 'out.deprune.json'))).toBe(true);
  }, 120_000);

  it('run refuses a model beside another prune\'s plan of the same network, naming the model, the plan file and the plan\'s model; a missing model is named', () => {
    const where = join(folder, 'mismatch');
    mkdirSync(where);
    for (const [name, ratio] of [['a', '0.3'], ['b', '0.6']]) expect(runCli(['prune', MODEL, '-o', `${name}.onnx`, '--ratio', ratio], { cwd: where }).status).toBe(0);
    const line = refusal(runCli(['run', 'a.onnx', '--plan', 'b.deprune.json', '--mode', 'cpu', '--repeat', '1'], { cwd: where }));
    expect(line).toMatch(/^deprune: a\.onnx: is not the model the plan 'b\.deprune\.json' was written for \(the plan records fnv1a32:[0-9a-f]{8}, \d+ bytes, written as 'b\.onnx'; this file is fnv1a32:[0-9a-f]{8}, \d+ bytes\)/);
    expect(refusal(runCli(['run', 'gone.onnx', '--plan', 'b.deprune.json', '--mode', 'cpu'], { cwd: where }))).toMatch(/^deprune: gone\.onnx: no such file/);
  });

  it('eval refuses the mismatched pair naming both files', () => {
    const where = join(folder, 'mismatch');
    mkdirSync(join(where, 'data'));
    writeFileSync(join(where, 'data', 'labels.txt'), 'line.png\t0\n');
    writeFileSync(join(where, 'data', 'line.png'), readFileSync(new URL('../assets/demo-line.png', import.meta.url)));
    const line = refusal(runCli(['eval', 'a.onnx', '--plan', 'b.deprune.json', '--task', 'classify', '--data', 'data', '--engine', 'deprune'], { cwd: where }));
    expect(line).toMatch(/^deprune: a\.onnx: is not the model the plan 'b\.deprune\.json' was written for/);
  });
});
