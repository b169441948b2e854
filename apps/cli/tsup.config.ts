import { defineConfig } from 'tsup';

export default defineConfig([
  {
    // The library: `import { main } from 'deprune'`.
    entry: { index: 'src/index.ts' },
    format: ['esm', 'cjs'],
    dts: true,
    // Clean everything but the bin, which the second build below writes in parallel.
    clean: ['!cli.js', '!cli.js.map'],
    sourcemap: true,
    target: 'node20',
    shims: true,
    // Optional: the demo's yardstick, loaded only if the user has it (never bundled).
    external: ['onnxruntime-node'],
  },
  {
    // The bin: one ESM file; its `#!/usr/bin/env node` line is kept and the file made executable.
    entry: { cli: 'src/cli.ts' },
    format: ['esm'],
    dts: false,
    clean: false,
    sourcemap: true,
    target: 'node20',
    external: ['onnxruntime-node'],
  },
]);
