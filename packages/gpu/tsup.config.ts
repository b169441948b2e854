import { defineConfig } from 'tsup';

export default defineConfig({
  // chromium.ts: the Node-only `@deprune/gpu/chromium` entry (headless Chromium runner).
  entry: ['src/index.ts', 'src/chromium.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'node20',
  // node-probes.ts resolves gpu.js's native deps with createRequire(import.meta.url); the CJS build needs the shim.
  shims: true,
});
