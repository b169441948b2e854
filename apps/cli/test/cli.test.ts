import { describe, expect, it } from 'vitest';
import packageJson from '../package.json';
import { runCli } from './helpers';

/** The commands `deprune --help` lists, so new commands are covered without editing this test. */
function listedCommands(help: string): string[] {
  const section = help.split('\nCommands:\n')[1]?.split('\n\n')[0] ?? '';
  return section
    .split('\n')
    .map((line) => line.trim().split(/\s+/)[0])
    .filter(Boolean);
}

function expectUsageError(result: ReturnType<typeof runCli>, pattern: RegExp): void {
  expect(result.status).toBe(2);
  expect(result.stdout).toBe('');
  const lines = result.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^deprune: /);
  expect(lines[0]).toMatch(pattern);
}

describe('deprune (top level)', () => {
  it('--help lists the commands and exits 0', () => {
    const result = runCli(['--help']);
    expect(result.status).toBe(0);
    expect(result.stderr).toBe('');
    expect(result.stdout).toMatch(/^deprune \d+\.\d+\.\d+/);
    const commands = listedCommands(result.stdout);
    expect(commands).toEqual(expect.arrayContaining(['inspect', 'zoo']));
    expect(runCli(['-h']).stdout).toBe(result.stdout);
    expect(runCli(['help']).stdout).toBe(result.stdout);
  });

  it('--help works for every command, before or after other arguments', () => {
    const commands = listedCommands(runCli(['--help']).stdout);
    for (const command of commands) {
      for (const args of [[command, '--help'], [command, '-h'], [command, 'whatever', '--bogus', '--help'], ['help', command]]) {
        const result = runCli(args);
        expect(result.status, args.join(' ')).toBe(0);
        expect(result.stderr).toBe('');
        expect(result.stdout).toContain(`deprune ${command}`);
        expect(result.stdout).toContain('Usage:');
        expect(result.stdout).toContain('--json');
        expect(result.stdout).toContain('--help');
      }
    }
  });

  it('--version prints the package version', () => {
    const result = runCli(['--version']);
    expect(result.status).toBe(0);
    expect(result.stdout.trim()).toBe(packageJson.version);
  });

  it('an unknown command is a usage error with a hint to --help', () => {
    expectUsageError(runCli(['frobnicate']), /unknown command 'frobnicate'.*deprune --help/);
    expectUsageError(runCli(['inspekt', 'x.onnx']), /unknown command 'inspekt'; did you mean 'inspect'\?/);
  });

  it('no command, or an unknown flag before it, is a usage error', () => {
    expectUsageError(runCli([]), /no command given.*--help/);
    expectUsageError(runCli(['--bogus']), /unknown flag '--bogus'.*--help/);
  });

  it('unknown flags, flags without values and extra arguments are usage errors naming them', () => {
    expectUsageError(runCli(['inspect', 'zoo:mobilenetv2', '--bogus']), /unknown flag '--bogus' for 'inspect'.*deprune inspect --help/);
    expectUsageError(runCli(['inspect', 'zoo:mobilenetv2', '-x']), /unknown flag '-x'/);
    expectUsageError(runCli(['inspect', 'zoo:mobilenetv2', '--input-shape']), /flag '--input-shape' needs a value/);
    expectUsageError(runCli(['inspect', 'zoo:mobilenetv2', '--json=yes']), /flag '--json' takes no value/);
    expectUsageError(runCli(['inspect', 'a.onnx', 'b.onnx']), /unexpected argument 'b\.onnx'/);
    expectUsageError(runCli(['inspect']), /missing <model>/);
    const json = runCli(['inspect', '--json']);
    expect(JSON.parse(json.stdout)).toEqual({ error: { code: 'BAD_USAGE', message: expect.stringMatching(/^missing <model>/), hint: expect.any(String) } });
    expectUsageError({ ...json, stdout: '' }, /missing <model>/);
    expectUsageError(runCli(['zoo', 'mobilenetv2', '-o', 'x.onnx', '--seed', 'abc']), /--seed must be an integer >= 0, got 'abc'/);
  });

  it('--verbose adds the stack trace to an error', () => {
    const result = runCli(['inspect', 'zoo:mobilenetv2', '--bogus', '--verbose']);
    expect(result.status).toBe(2);
    expect(result.stdout).toBe('');
    const lines = result.stderr.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^deprune: unknown flag '--bogus'/);
    expect(lines.length).toBeGreaterThan(2);
    expect(result.stderr).toMatch(/\n\s+at /);
  });
});
