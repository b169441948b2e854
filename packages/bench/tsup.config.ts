import { defineConfig } from 'tsup';

export default defineConfig([
  {
    entry: {
      index: 'src/index.ts',
      // The script nodePruneMemoryProbe runs in a fresh Node process per variant.
      'prune-memory-child': 'src/prune-memory-child.ts',
      // For pages bundled elsewhere (apps/bench): the page API and views, the module that stands in
      // for the Node built-ins they import, and the Vite settings every such page shares
      // (subpaths ./browser, ./node-stub and ./page-build).
      browser: 'src/browser/index.ts',
      'node-stub': 'src/browser/node-stub.ts',
      'page-build': 'src/browser/page-build.ts',
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
