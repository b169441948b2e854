import { defineConfig } from 'tsup';

export default defineConfig({
  // Two entries: the pure core (runs in browsers) and the Node file edge.
  entry: { index: 'src/index.ts', node: 'src/node.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'node20',
});
