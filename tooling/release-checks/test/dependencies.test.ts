// "Dependencies point one way" (docs/architecture.md, issue 15): the edges that a plan reader or a
// kernel backend must not have, checked on what is published (package.json dependencies) and on
// what the sources import, so that a convenience import cannot quietly bring the pruner back into
// the runtime or masks into a backend.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

interface Manifest {
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}

/** What installing the package pulls in (dev dependencies are its tests' business). */
function installed(folder: string): string[] {
  const manifest = JSON.parse(readFileSync(join(repoRoot, folder, 'package.json'), 'utf8')) as Manifest;
  return Object.keys({ ...manifest.dependencies, ...manifest.peerDependencies, ...manifest.optionalDependencies });
}

/** Every package (scoped or not) a source file under `folder/src` imports, by its bare specifier. */
function importedPackages(folder: string): Set<string> {
  const names = new Set<string>();
  const walk = (directory: string): void => {
    for (const entry of readdirSync(directory)) {
      const path = join(directory, entry);
      if (statSync(path).isDirectory()) walk(path);
      else if (/\.(ts|mts|cts|js)$/.test(entry)) {
        for (const match of readFileSync(path, 'utf8').matchAll(/(?:from|import)\s*\(?\s*'([^'.][^']*)'/g)) {
          const parts = match[1].split('/');
          names.add(parts.slice(0, match[1].startsWith('@') ? 2 : 1).join('/'));
        }
      }
    }
  };
  walk(join(repoRoot, folder, 'src'));
  return names;
}

/** The workspace packages a source file under `folder/src` imports (static or dynamic, types included). */
function imported(folder: string): Set<string> {
  return new Set([...importedPackages(folder)].filter((name) => name.startsWith('@deprune/')));
}

/** Package folder -> the workspace packages it must neither depend on nor import. */
const FORBIDDEN: Record<string, string[]> = {
  'packages/runtime': ['@deprune/pipeline', '@deprune/bwt', '@deprune/hsr', '@deprune/oneshot'],
  'packages/calibrate': ['@deprune/pipeline', '@deprune/bwt', '@deprune/hsr', '@deprune/oneshot'],
  // prune() stays pure: no forward passes, so no runtime, backend or calibration below it.
  'packages/pipeline': ['@deprune/runtime', '@deprune/calibrate', '@deprune/oneshot', '@deprune/gpu', '@deprune/wasm'],
  // The one call composes calibrate and pipeline; the bench and the apps sit above it.
  'packages/oneshot': ['@deprune/bench', '@deprune/gpu', '@deprune/wasm'],
  'packages/plan': ['@deprune/pipeline', '@deprune/runtime', '@deprune/gpu', '@deprune/wasm', '@deprune/bwt', '@deprune/hsr'],
  'packages/gpu': ['@deprune/masks', '@deprune/hsr', '@deprune/pipeline', '@deprune/plan'],
  'packages/wasm': ['@deprune/masks', '@deprune/hsr', '@deprune/pipeline', '@deprune/plan', '@deprune/gpu'],
  'packages/kernels': ['@deprune/masks', '@deprune/plan', '@deprune/gpu', '@deprune/wasm'],
  'packages/masks': ['@deprune/onnx', '@deprune/plan', '@deprune/pipeline', '@deprune/gpu'],
  // The profiler times any backend it is handed; it loads none itself.
  'packages/profiler': ['@deprune/gpu', '@deprune/wasm', '@deprune/runtime', '@deprune/pipeline'],
};

describe('dependencies point one way', () => {
  for (const [folder, forbidden] of Object.entries(FORBIDDEN)) {
    it(`${folder} neither depends on nor imports ${forbidden.join(', ')}`, () => {
      expect(installed(folder).filter((name) => forbidden.includes(name))).toEqual([]);
      expect([...imported(folder)].filter((name) => forbidden.includes(name))).toEqual([]);
    });
  }

  // Apps (the CLI, the benchmark page) sit on top: a package that needed one would break when
  // published, and the private ones are never published at all.
  const withManifest = (parent: string) => readdirSync(join(repoRoot, parent)).filter((folder) => existsSync(join(repoRoot, parent, folder, 'package.json')));
  const appNames = withManifest('apps').map((folder) => (JSON.parse(readFileSync(join(repoRoot, 'apps', folder, 'package.json'), 'utf8')) as { name: string }).name);
  const packageFolders = withManifest('packages').map((folder) => `packages/${folder}`);

  it('finds the apps and the packages', () => {
    expect(appNames).toEqual(expect.arrayContaining(['deprune', '@deprune/bench-app']));
    expect(packageFolders).toEqual(expect.arrayContaining(['packages/bench', 'packages/runtime']));
  });

  for (const folder of packageFolders) {
    it(`${folder} neither depends on nor imports an app`, () => {
      expect(installed(folder).filter((name) => appNames.includes(name))).toEqual([]);
      expect([...importedPackages(folder)].filter((name) => appNames.includes(name))).toEqual([]);
    });
  }

  it('the import scan sees imports (it finds the plan contract in the runtime)', () => {
    expect(imported('packages/runtime').has('@deprune/plan')).toBe(true);
    expect(installed('packages/runtime')).toContain('@deprune/plan');
    // The wider scan: scoped and unscoped names, static and dynamic imports.
    expect([...importedPackages('packages/bench')]).toEqual(expect.arrayContaining(['@deprune/gpu', 'vega', 'onnxruntime-node']));
  });
});
