import { defineConfig } from 'tsup';

export default defineConfig([
  {
    // prune-memory-child: the script nodePruneMemoryProbe runs in a fresh Node process per variant.
    entry: ['src/index.ts', 'src/prune-memory-child.ts'],
    format: ['esm', 'cjs'],
    dts: true,
    clean: true,
    sourcemap: true,
    target: 'node20',
    // import.meta.url in the CommonJS build (browser-runner.ts and prune-memory-node.ts find dist/page and the child script with it).
    shims: true,
  },
]);
