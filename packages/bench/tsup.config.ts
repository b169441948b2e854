import { defineConfig } from 'tsup';

export default defineConfig([
  {
    entry: {
      index: 'src/index.ts',
      // The script nodePruneMemoryProbe runs in a fresh Node process per variant.
      'prune-memory-child': 'src/prune-memory-child.ts',
      // For pages bundled elsewhere (apps/bench): the page API and views, and the stub for the
      // Node built-ins they import (subpaths ./browser and ./node-stub).
      browser: 'src/browser/index.ts',
      'node-stub': 'src/browser/node-stub.ts',
    },
    format: ['esm', 'cjs'],
    dts: true,
    clean: true,
    sourcemap: true,
    target: 'node20',
    // import.meta.url in the CommonJS build (browser-runner.ts and prune-memory-node.ts find dist/page and the child script with it).
    shims: true,
  },
]);
