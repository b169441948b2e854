import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { applyMask, maskLayer } from '@deprune/masks';
import { createRng, depthwiseConv2d, relativeL2Error, tensor } from '@deprune/tensor';
import { describe, expect, it } from 'vitest';
import { MODES, keptTaps, randomFloat32 } from './helpers';

/**
 * gpu.js transpiles kernels from their source text, so what a bundler does to that text matters:
 * run the built ESM and CJS bundles (turbo builds before testing; locally run `npx tsup` first).
 */
const dist = new URL('../dist/', import.meta.url);

describe.each(['index.js', 'index.cjs'])('the built bundle dist/%s', (file) => {
  it('exists (run `npx tsup` before testing)', () => {
    expect(existsSync(new URL(file, dist))).toBe(true);
  });

  it.each(MODES)('runs the sparse DW kernels in %s mode', async (mode) => {
    type Lib = typeof import('../src/index');
    const lib: Lib = file.endsWith('.cjs') ? (createRequire(import.meta.url)(new URL(file, dist).pathname) as Lib) : ((await import(new URL(file, dist).href)) as Lib);
    const rng = createRng(11);
    const x = randomFloat32([1, 6, 7, 5], rng);
    const weight = randomFloat32([6, 1, 3, 3], rng);
    const plan = maskLayer({ kind: 'dw', name: 'dw', channels: 6, kernel: [3, 3], weights: Float64Array.from(weight.data) }, { ratio: 0.5 });
    const attrs = { pads: [1, 0, 0, 1], strides: [2, 1], activation: 'silu' } as const;
    const masked = tensor(applyMask(weight.data, plan.mask), weight.shape);
    const expected = lib.applyActivation(depthwiseConv2d(x, masked, null, { pads: attrs.pads, strides: attrs.strides }).data, 'silu');
    const sparse = await lib.getKernel('dwSparse', mode)(x, lib.buildTapTable(keptTaps(plan), weight), null, attrs);
    const diagonal = await lib.getKernel('dwDiagonal', mode)(x, lib.buildDiagonalTable(keptTaps(plan), weight, { groupSize: 4 }), null, attrs);
    expect(relativeL2Error(sparse.data, expected)).toBeLessThan(1e-4);
    expect(relativeL2Error(diagonal.data, expected)).toBeLessThan(1e-4);
    await lib.disposeBackend();
  });
});
