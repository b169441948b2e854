import { describe, expect, it } from 'vitest';
import { DeprunError, UsageError } from '@deprune/errors';
import { parseCommandArgs } from '../src/args';
import { createRegistry, main } from '../src/main';
import { Output, escapeControlCharacters, formatTable, type CliIo } from '../src/output';
import type { Command } from '../src/registry';

function bufferIo(options: { tty?: boolean; clock?: () => number } = {}): CliIo & { out: () => string; err: () => string } {
  let stdout = '';
  let stderr = '';
  return {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text), isTTY: options.tty ?? false, columns: 60 },
    now: options.clock,
    out: () => stdout,
    err: () => stderr,
  };
}

const greet: Command = {
  name: 'greet',
  summary: 'say hello (a test command plugged in from outside)',
  usage: ['greet <who> [--times N] [--shout]'],
  args: [{ name: 'who', description: 'whom to greet' }],
  flags: {
    times: { type: 'string', value: 'N', description: 'how often' },
    shout: { type: 'boolean', short: 's', description: 'louder' },
    tag: { type: 'string', multiple: true, description: 'tags' },
  },
  run({ args, out }) {
    const who = args.positional(0)!;
    const times = args.integer('times', { min: 1, max: 5 }) ?? 1;
    const text = args.boolean('shout') ? `HELLO ${who.toUpperCase()}` : `hello ${who}`;
    out.log('greeting...');
    out.result({ greeting: text, times, tags: args.strings('tag') });
    for (let i = 0; i < times; i++) out.print(text);
    return 0;
  },
};

function fails(error: unknown): Command {
  return { name: 'fail', summary: 'throws', usage: ['fail'], run: () => Promise.reject(error) };
}

describe('main(): commands plug into the registry', () => {
  it('runs a registered command with typed flags; human and --json output', async () => {
    const registry = createRegistry().register(greet);
    const io = bufferIo();
    expect(await main(['greet', 'ada', '--times', '2', '-s'], { io, registry })).toBe(0);
    expect(io.out()).toBe('HELLO ADA\nHELLO ADA\n');
    expect(io.err()).toBe('greeting...\n');

    const json = bufferIo();
    expect(await main(['greet', 'ada', '--json', '--tag', 'a', '--tag', 'b'], { io: json, registry })).toBe(0);
    expect(JSON.parse(json.out())).toEqual({ greeting: 'hello ada', times: 1, tags: ['a', 'b'] });
    expect(json.err()).toBe('greeting...\n');
  });

  it('lists it in --help and gives it its own --help', async () => {
    const registry = createRegistry().register(greet);
    const io = bufferIo();
    expect(await main(['--help'], { io, registry })).toBe(0);
    expect(io.out()).toMatch(/\n {2}greet\s+say hello/);
    const help = bufferIo();
    expect(await main(['greet', '--help'], { io: help, registry })).toBe(0);
    expect(help.out()).toContain('deprune greet <who> [--times N] [--shout]');
    expect(help.out()).toMatch(/-s, --shout\s+louder/);
    expect(help.out()).toMatch(/--tag <value>\s+tags \(repeatable\)/);
  });

  it('validates flag values as usage errors', async () => {
    const registry = createRegistry().register(greet);
    const io = bufferIo();
    expect(await main(['greet', 'ada', '--times', '9'], { io, registry })).toBe(2);
    expect(io.err()).toBe("deprune: --times must be an integer from 1 to 5, got '9' (run 'deprune greet --help' for usage)\n");
    expect(io.out()).toBe('');
  });

  it('refuses duplicate commands and redefined common flags', () => {
    expect(() => createRegistry().register(greet).register(greet)).toThrow(/registered twice/);
    expect(() => createRegistry().register({ ...greet, name: 'other', flags: { json: { type: 'boolean', description: '' } } })).toThrow(/common flag --json/);
  });
});

describe('main(): errors', () => {
  it('a DeprunError prints its message on one line and exits with its code', async () => {
    const io = bufferIo();
    const error = new DeprunError('INVALID_MODEL', 'bad\nthing', { file: 'm.onnx', hint: 'fix it' });
    expect(await main(['fail'], { io, registry: createRegistry().register(fails(error)) })).toBe(2);
    expect(io.err()).toBe('deprune: m.onnx: bad thing (fix it)\n');
    const internal = bufferIo();
    expect(await main(['fail'], { io: internal, registry: createRegistry().register(fails(new DeprunError('INTERNAL', 'oops'))) })).toBe(1);
    expect(internal.err()).toBe('deprune: oops\n');
  });

  it('any other error is an internal error, exit 1; --verbose shows the stack', async () => {
    const registry = createRegistry().register(fails(new TypeError('x is undefined')));
    const io = bufferIo();
    expect(await main(['fail'], { io, registry })).toBe(1);
    expect(io.err()).toBe('deprune: internal error: x is undefined (run with --verbose for details)\n');
    const verbose = bufferIo();
    expect(await main(['fail', '--verbose'], { io: verbose, registry })).toBe(1);
    expect(verbose.err()).toMatch(/^deprune: internal error: x is undefined\nTypeError: x is undefined\n\s+at /);
  });

  it('--verbose also shows the cause of a DeprunError', async () => {
    const error = new UsageError('outer', { cause: new RangeError('inner') });
    const io = bufferIo();
    expect(await main(['--verbose', 'fail'], { io, registry: createRegistry().register(fails(error)) })).toBe(2);
    expect(io.err()).toMatch(/^deprune: outer\nUsageError: outer\n[\s\S]*caused by: RangeError: inner/);
  });

  it('escapes control characters from files and flags (\\r, ESC, NUL) in the error line', async () => {
    const error = new DeprunError('INVALID_MODEL', 'bad layer', { file: 'm.onnx', node: 'a\r\u001b[2Jb\u0000' });
    const io = bufferIo();
    expect(await main(['fail'], { io, registry: createRegistry().register(fails(error)) })).toBe(2);
    expect(io.err()).toBe("deprune: m.onnx: node 'a\\x0d\\x1b[2Jb\\x00': bad layer\n");
    expect(escapeControlCharacters('tab\tand\nnewline stay; \u007f and \u009b go')).toBe('tab\tand\nnewline stay; \\x7f and \\x9b go');
    // A right-to-left override would print the rest of the line reversed: 'evil.onnx' shown as 'xnno.live'.
    expect(escapeControlCharacters('model \u202egpj.onnx and \u200b zero width')).toBe('model \\u{202e}gpj.onnx and \\u{200b} zero width');
  });

  it('with --json, a failing command prints one JSON error document on stdout too', async () => {
    const error = new DeprunError('INVALID_MODEL', 'bad', { file: 'm.onnx', node: 'conv\u001b', hint: 'fix it' });
    const io = bufferIo();
    expect(await main(['fail', '--json'], { io, registry: createRegistry().register(fails(error)) })).toBe(2);
    expect(JSON.parse(io.out())).toEqual({ error: { code: 'INVALID_MODEL', message: "m.onnx: node 'conv\u001b': bad (fix it)", file: 'm.onnx', node: 'conv\u001b', hint: 'fix it' } });
    expect(io.err()).toBe("deprune: m.onnx: node 'conv\\x1b': bad (fix it)\n");
    const internal = bufferIo();
    expect(await main(['--json', 'fail'], { io: internal, registry: createRegistry().register(fails(new TypeError('x is undefined'))) })).toBe(1);
    expect(JSON.parse(internal.out())).toEqual({ error: { code: 'INTERNAL', message: 'internal error: x is undefined' } });
    const usage = bufferIo();
    expect(await main(['greet', '--json', '--bogus'], { io: usage, registry: createRegistry().register(greet) })).toBe(2);
    expect(JSON.parse(usage.out()).error).toMatchObject({ code: 'BAD_USAGE', message: expect.stringMatching(/^unknown flag '--bogus'/) });
  });

  it('with --json, an error after the command printed its document adds no second one', async () => {
    const late: Command = {
      name: 'late',
      summary: 'prints its result, then fails',
      usage: ['late'],
      run({ out }) {
        out.result({ ok: true });
        throw new DeprunError('INVALID_MODEL', 'too late');
      },
    };
    const io = bufferIo();
    expect(await main(['late', '--json'], { io, registry: createRegistry().register(late) })).toBe(2);
    expect(JSON.parse(io.out())).toEqual({ ok: true });
  });
});

describe('parseCommandArgs', () => {
  it('parses strings, repeats, booleans and positionals', () => {
    const args = parseCommandArgs(greet, ['bob', '--tag', 'x', '--tag=y', '--times=3', '--json']);
    expect(args.positionals).toEqual(['bob']);
    expect(args.strings('tag')).toEqual(['x', 'y']);
    expect(args.integer('times')).toBe(3);
    expect(args.json).toBe(true);
    expect(args.verbose).toBe(false);
    expect(args.has('shout')).toBe(false);
  });

  it('turns every problem into a UsageError that points at --help', () => {
    const cases: [string[], RegExp][] = [
      [['bob', '--nope'], /^unknown flag '--nope' for 'greet'/],
      [['bob', '--times'], /^flag '--times' needs a value/],
      [['bob', '--times', '--json'], /^flag '--times' needs a value/],
      [['bob', '--shout=yes'], /^flag '--shout' takes no value/],
      [['bob', 'alice'], /^unexpected argument 'alice'/],
      [[], /^missing <who>/],
      [['bob', '--times', '1.5'], /^--times must be an integer/],
    ];
    for (const [argv, pattern] of cases) {
      let caught: unknown;
      try {
        const args = parseCommandArgs(greet, argv);
        args.integer('times');
      } catch (error) {
        caught = error;
      }
      expect(caught, argv.join(' ')).toBeInstanceOf(UsageError);
      expect((caught as UsageError).message).toMatch(pattern);
      expect((caught as UsageError).message).toContain("deprune greet --help");
    }
  });
});

describe('Output and Progress', () => {
  it('keeps stdout to one JSON document with --json', () => {
    const io = bufferIo();
    const out = new Output(io, { json: true, verbose: false });
    out.print('human text');
    out.warn('hidden in json mode');
    out.result({ a: 1 });
    expect(() => out.result({ b: 2 })).toThrow(/exactly one document/);
    expect(JSON.parse(io.out())).toEqual({ a: 1 });
    expect(io.err()).toBe('');
  });

  it('on a terminal: one line rewritten in place, throttled, on stderr only', () => {
    let time = 0;
    const io = bufferIo({ tty: true, clock: () => time });
    const progress = new Output(io, { json: true, verbose: false }).progress('pruning', 10);
    for (let i = 1; i <= 10; i++) {
      time += 30;
      progress.update(i);
    }
    progress.done('pruned 10 layers');
    expect(io.out()).toBe('');
    const frames = io.err().split('\r\x1b[2K').filter(Boolean);
    expect(frames[0]).toBe('pruning: 1/10 (10%)');
    expect(frames.length).toBeLessThan(6); // 30 ms steps, 100 ms throttle
    expect(frames[frames.length - 1]).toBe('pruned 10 layers\n');
    expect(io.err().split('\n')).toHaveLength(2);
  });

  it('in a log: occasional plain lines', () => {
    let time = 0;
    const io = bufferIo({ tty: false, clock: () => time });
    const progress = new Output(io, { json: false, verbose: false }).progress('profiling');
    for (let i = 0; i < 100; i++) {
      time += 1000;
      progress.tick(1, 'layer');
    }
    progress.done();
    const lines = io.err().trimEnd().split('\n');
    expect(lines[0]).toBe('profiling: 1 layer');
    expect(lines.length).toBe(21); // one every 5 s over 100 s, plus the final line
    expect(lines[lines.length - 1]).toBe('profiling: 100 done');
    expect(io.err()).not.toContain('\r');
  });

  it('formats tables with aligned columns', () => {
    expect(formatTable(['name', 'n'], [['a', '1'], ['long', '100']], { align: ['left', 'right'] })).toBe(
      'name    n\n----  ---\na       1\nlong  100',
    );
  });
});
