import { defineConfig } from 'tsup';

export default defineConfig({
  // The core, and the optional onnxruntime-node engine (its own entry, so nothing else imports onnxruntime-node).
  entry: { index: 'src/index.ts', onnxruntime: 'src/onnxruntime.ts' },
  external: ['onnxruntime-node'],
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'node20',
});
