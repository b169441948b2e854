import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { matchesGlob, matchesPattern } from '../src/index';

/** The reference semantics: the anchored regular expression a glob stands for (fine for short inputs). */
function globAsRegExp(pattern: string): RegExp {
  const source = [...pattern].map((char) => (char === '*' ? '.*' : char === '?' ? '.' : char.replace(/[\\^$.|+()[\]{}]/g, '\\$&'))).join('');
  return new RegExp(`^${source}$`, 's');
}

describe('matchesGlob', () => {
  it('40 stars then X against a 200-character name answers in milliseconds (a compiled regex backtracks for ever)', () => {
    const name = 'a'.repeat(200);
    const started = performance.now();
    expect(matchesGlob(name, `${'*'.repeat(40)}X`)).toBe(false);
    expect(matchesGlob(name, `${'*a'.repeat(40)}X`)).toBe(false);
    expect(matchesGlob(`${name}X`, `${'*a'.repeat(40)}X`)).toBe(true);
    expect(matchesPattern(name, `${'*'.repeat(40)}X`)).toBe(false);
    expect(performance.now() - started).toBeLessThan(200);
  });

  it('agrees with the regular expression on random names and patterns', () => {
    const name = fc.string({ unit: fc.constantFrom('a', 'b', '.'), maxLength: 12 });
    const pattern = fc.string({ unit: fc.constantFrom('a', 'b', '.', '*', '?'), maxLength: 8 });
    fc.assert(
      fc.property(name, pattern, (text, glob) => {
        expect(matchesGlob(text, glob)).toBe(globAsRegExp(glob).test(text));
      }),
      { numRuns: 2000 },
    );
  });

  it('edge cases: empty name and pattern, trailing stars, a star that must give characters back', () => {
    expect(matchesGlob('', '')).toBe(true);
    expect(matchesGlob('', '***')).toBe(true);
    expect(matchesGlob('', '?')).toBe(false);
    expect(matchesGlob('abc', '')).toBe(false);
    expect(matchesGlob('abcbc', '*bc')).toBe(true);
    expect(matchesGlob('p2o.Conv.12', 'p2o.*.1?')).toBe(true);
    expect(matchesGlob('line\nbreak', 'line*break')).toBe(true);
  });
});
