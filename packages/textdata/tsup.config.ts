import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'node20',
  // The fonts are found with createRequire(import.meta.url): the CommonJS build needs the shim.
  shims: true,
});
