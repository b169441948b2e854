import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'node20',
  // Keep `node:` specifiers: browser bundlers (the bench page, the Chromium tests) leave them out by that prefix.
  removeNodeProtocol: false,
});
