import { readFileSync } from 'node:fs';
import { format } from 'node:util';
import { expect, it, vi } from 'vitest';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const example = readFileSync(new URL('./readme-example.ts', import.meta.url), 'utf8');

function firstBlock(language: string): string {
  const match = readme.match(new RegExp('```' + language + '\\n([\\s\\S]*?)```'));
  if (!match) throw new Error(`README has no ${language} block`);
  return match[1].trim();
}

it('the README example is test/readme-example.ts and prints what the README shows', async () => {
  expect(firstBlock('ts')).toBe(example.replaceAll("'../src/index'", "'@deprune/kernels'").trim());
  const lines: string[] = [];
  const spy = vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void lines.push(format(...args)));
  try {
    await import('./readme-example');
  } finally {
    spy.mockRestore();
  }
  expect(lines.join('\n')).toBe(firstBlock('text'));
});
