/**
 * The flag vocabulary as a new user meets it (issue 16, "Build" item 5): one spelling per idea
 * with the old ones as aliases, "did you mean" for typos, bare zoo names in every command, help
 * text that says what really happens, and hints in command-line terms.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCommandArgs } from '../src/args';
import { canonicalModelSpec } from '../src/models';
import { cleanup, runCli, runJson, tempDir } from './helpers';

const FAST_RUN = ['--mode', 'wasm'];

function refusal(result: ReturnType<typeof runCli>): string {
  expect(result.status).toBe(2);
  return result.stderr.trimEnd();
}

describe('flag aliases', () => {
  let folder: string;
  beforeAll(() => {
    folder = tempDir();
  });
  afterAll(() => cleanup(folder));

  it('an alias and its flag land under one name; the last single value wins and repeatable ones keep their order', () => {
    const spec = {
      name: 'x',
      flags: {
        repeats: { type: 'string', aliases: ['repeat'], description: '' },
        input: { type: 'string', multiple: true, aliases: ['in'], description: '' },
      },
    } as const;
    const args = parseCommandArgs(spec, ['--repeat', '2', '--repeats=3', '--in', 'a', '--input', 'b', '--in=c']);
    expect(args.integer('repeats')).toBe(3);
    expect(args.strings('input')).toEqual(['a', 'b', 'c']);
    expect(args.has('repeat')).toBe(false);
    expect(() => parseCommandArgs(spec, ['--repeat'])).toThrow(/flag '--repeat' needs a value/);
  });

  it('run takes --repeats and --repeat, -o, --output and --out', () => {
    for (const [repeatFlag, outputFlag] of [['--repeats', '-o'], ['--repeat', '--out'], ['--repeats', '--output']]) {
      const file = join(folder, `y${outputFlag}.npy`);
      const { document } = runJson<{ latency: { repeats: number } }>(['run', 'zoo:mobilenetv3-small', ...FAST_RUN, repeatFlag, '2', outputFlag, file]);
      expect(document.latency.repeats).toBe(2);
      expect(existsSync(file)).toBe(true);
    }
  });

  it('bench takes -o and --output for its --out folder', () => {
    writeFileSync(join(folder, 'x.npy'), '');
    for (const flag of ['--out', '--output', '-o']) {
      expect(refusal(runCli(['bench', '--suite', 'prune', flag, 'x.npy'], { cwd: folder }))).toMatch(/x\.npy: --out must be a folder, but this is a file/);
    }
  });

  it('--help shows the main spelling and names the alias', () => {
    const run = runCli(['run', '--help']).stdout;
    expect(run).toMatch(/--repeats <N> .*\(alias: --repeat\)/);
    expect(run).toMatch(/-o, --output <y\.npy> .*\(alias: --out\)/);
    expect(runCli(['demo', '--help']).stdout).toMatch(/--repeats <N> .*\(alias: --repeat\)/);
    expect(runCli(['bench', '--help']).stdout).toMatch(/-o, --out <dir> .*\(alias: --output\)/);
  });
});

describe('did you mean', () => {
  it('an unknown flag names the closest known one (aliases included)', () => {
    expect(refusal(runCli(['bench', '--repeets', '3']))).toMatch(/unknown flag '--repeets' for 'bench'; did you mean --repeats\?/);
    expect(refusal(runCli(['run', 'zoo:mobilenetv2', '--ouptut', 'y.npy']))).toMatch(/did you mean --output\?/);
    expect(refusal(runCli(['inspect', 'zoo:mobilenetv2', '--frobnicate']))).not.toMatch(/did you mean/);
  });

  it('an unknown command names the closest command', () => {
    expect(refusal(runCli(['inspcet', 'zoo:mobilenetv2']))).toMatch(/unknown command 'inspcet'; did you mean 'inspect'\?/);
  });
});

describe('bare zoo names', () => {
  let folder: string;
  beforeAll(() => {
    folder = tempDir();
  });
  afterAll(() => cleanup(folder));

  it('inspect mobilenetv2 is inspect zoo:mobilenetv2', () => {
    const bare = runJson<{ model: { name?: string } }>(['inspect', 'mobilenetv2']).document;
    const prefixed = runJson<{ model: { name?: string } }>(['inspect', 'zoo:mobilenetv2']).document;
    expect(bare).toEqual(prefixed);
  });

  it('a file of that name wins over the zoo', () => {
    writeFileSync(join(folder, 'mobilenetv2'), 'not a model');
    expect(canonicalModelSpec('mobilenetv2')).toBe('zoo:mobilenetv2');
    expect(canonicalModelSpec(join(folder, 'mobilenetv2'))).toBe(join(folder, 'mobilenetv2'));
    expect(refusal(runCli(['inspect', 'mobilenetv2'], { cwd: folder }))).toMatch(/^deprune: mobilenetv2: /);
  });

  it('every command that takes a model says the prefix may be left out', () => {
    for (const command of ['inspect', 'prune', 'run', 'eval', 'profile', 'bench']) {
      expect(runCli([command, '--help']).stdout, command).toContain("zoo names may omit 'zoo:'");
    }
  });
});

describe('help and hints that say what happens', () => {
  it('prune --allocation states both defaults', () => {
    const help = runCli(['prune', '--help']).stdout.replace(/\s+/g, ' ');
    expect(help).toContain('Default: saliency-macs when calibrating (--calib, or a bundled model without --no-calib');
    expect(help).toContain('else uniform');
    expect(help).not.toContain('uniform (default)');
  });

  it('an unavailable --mode says what to type, not a library function', () => {
    for (const mode of ['webgpu', 'headlessgl']) {
      const result = runCli(['run', 'zoo:mobilenetv3-small', '--mode', mode, '--repeats', '1']);
      // Where the mode does work (a GPU with Dawn, or a display for headless-gl) there is nothing to check.
      if (result.status === 0) continue;
      const line = refusal(result);
      expect(line).not.toContain('availableModes()');
      expect(line).toMatch(/use --mode wasm .*or leave --mode out/);
      if (mode === 'webgpu') expect(line).toContain("'deprune bench --browser chromium'");
    }
  });
});
