import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DeprunError } from '@deprune/errors';
import { loadBench } from '../src/optional';

/** An import that fails the way Node's does when a package is missing. */
const missing = (name: string) => () => Promise.reject(Object.assign(new Error(`Cannot find package '${name}' imported from cli.js`), { code: 'ERR_MODULE_NOT_FOUND' }));

describe('packages only some commands need', () => {
  it('the CLI does not depend on the bench or onnxruntime-node: they are optional peers, loaded by the commands that use them', () => {
    const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as Record<string, Record<string, unknown> | undefined>;
    expect(Object.keys(manifest.dependencies ?? {})).not.toContain('@deprune/bench');
    expect(Object.keys(manifest.dependencies ?? {})).not.toContain('onnxruntime-node');
    expect(manifest.peerDependenciesMeta?.['@deprune/bench']).toEqual({ optional: true });
  });

  it('without @deprune/bench, `deprune bench` says what to install', async () => {
    const failure = await loadBench('bench', missing('@deprune/bench')).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(DeprunError);
    expect((failure as DeprunError).message).toMatch(/deprune bench needs the package @deprune\/bench/);
    expect((failure as DeprunError).hint).toMatch(/npm install @deprune\/bench/);
  });

  it('an error inside an installed @deprune/bench is not mistaken for a missing package', async () => {
    await expect(loadBench('bench', missing('vega'))).rejects.toThrow(/'vega'/);
    // And the real import works here, where the bench is installed.
    expect(typeof (await loadBench('bench')).runModelSuite).toBe('function');
  });
});
