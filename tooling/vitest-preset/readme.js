import { readFileSync } from 'node:fs';
import { format } from 'node:util';
import { expect, it, vi } from 'vitest';

/**
 * A package README's example must be real: its first ```ts block is exactly
 * test/readme-example.ts (importing the package by name instead of '../src/index', and a
 * subpath export such as '@deprune/x/node' instead of '../src/node'), and
 * running that file logs exactly the README's first ```text block.
 *
 * Call from test/readme.test.ts: `readmeExampleTest(import.meta.url, '@deprune/x')`.
 */
export function readmeExampleTest(testFileUrl, packageName) {
  const readme = readFileSync(new URL('../README.md', testFileUrl), 'utf8');
  const exampleUrl = new URL('./readme-example.ts', testFileUrl);
  const example = readFileSync(exampleUrl, 'utf8');
  const firstBlock = (language) => {
    const match = readme.match(new RegExp('```' + language + '\\n([\\s\\S]*?)```'));
    if (!match) throw new Error(`README has no ${language} block`);
    return match[1].trim();
  };

  it('the README example is test/readme-example.ts and prints what the README shows', async () => {
    const published = example.replaceAll("'../src/index'", `'${packageName}'`).replace(/'\.\.\/src\/([\w-]+)'/g, `'${packageName}/$1'`);
    expect(firstBlock('ts')).toBe(published.trim());
    const lines = [];
    const spy = vi.spyOn(console, 'log').mockImplementation((...args) => void lines.push(format(...args)));
    try {
      await import(exampleUrl.href);
    } finally {
      spy.mockRestore();
    }
    expect(lines.join('\n')).toBe(firstBlock('text'));
  });
}
