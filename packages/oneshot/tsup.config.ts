import { defineConfig } from 'tsup';

export default defineConfig({
  // The one call, and the defaults alone (no dependency: the CLI's --help reads them without loading the pruner).
  entry: { index: 'src/index.ts', defaults: 'src/defaults.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'node20',
});
