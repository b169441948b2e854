import { afterAll, describe, expect, it } from 'vitest';
// The gpu backend's parity cases, shared so that every backend runs the same odd shapes.
import { PARITY_KERNELS, parityCases, parityFailure, runParityCase, type ParityResult } from '../../gpu/test/parity/cases';
import { createWasmBackend, wasmSupport, type WasmBackend } from '../src/index';

/** The run's seed: fresh every run, replayable with DEPRUNE_PARITY_SEED=<n>. */
function paritySeed(): number {
  const fromEnv = process.env.DEPRUNE_PARITY_SEED;
  if (fromEnv !== undefined && fromEnv !== '') return Number(fromEnv);
  const seed = Math.floor(Math.random() * 2 ** 31);
  process.env.DEPRUNE_PARITY_SEED = String(seed);
  return seed;
}

const seed = paritySeed();
// dwDiagonal is the DR reference form of the gpu benchmark, not a kernel the runtime calls.
const KERNELS = PARITY_KERNELS.filter((kernel) => kernel !== 'dwDiagonal');

describe.each(['simd', 'relaxed'] as const)('wasm kernels (%s) match the float64 reference', (simd) => {
  it('this engine validates the module', () => {
    // The vitest config runs the workers with --experimental-wasm-relaxed-simd, so both must load.
    expect(wasmSupport()).toEqual({ simd: true, relaxedSimd: true });
  });
  const backend: WasmBackend = createWasmBackend({ simd });
  const worst = new Map<string, number>();
  afterAll(() => {
    backend.dispose();
    console.log(`wasm ${simd} (seed ${seed}): worst relative L2 error per kernel: ${[...worst.entries()].map(([kernel, error]) => `${kernel} ${error.toExponential(2)}`).join(', ')}`);
  });
  it(`runs the ${simd} module`, () => {
    expect(backend.simd).toBe(simd);
  });
  for (const testCase of parityCases(seed, KERNELS)) {
    it(testCase.name, async () => {
      const result: ParityResult = await runParityCase(testCase, backend);
      if (result.error !== null) worst.set(result.kernel, Math.max(worst.get(result.kernel) ?? 0, result.error));
      expect(parityFailure(result), `seed ${seed} (replay with DEPRUNE_PARITY_SEED=${seed})`).toBeUndefined();
    });
  }
});

describe('wasm kernels on 2 threads give the 1-thread results', () => {
  const one = createWasmBackend({ simd: 'simd', threads: 1 });
  const two = createWasmBackend({ simd: 'simd', threads: 2, minParallelWork: 0 });
  afterAll(() => {
    one.dispose();
    two.dispose();
  });
  it('runs 2 threads (shared memory is available in Node)', () => {
    expect(two.threads).toBe(2);
  });
  const split = ['dwDense', 'dwSparse', 'pwDense', 'pwSparse', 'dsconv', 'conv2d', 'gemm', 'matmul'];
  for (const testCase of parityCases(seed, KERNELS).filter((each) => split.includes(each.kernel))) {
    it(testCase.name, async () => {
      const [single, double] = [await testCase.run(one), await testCase.run(two)];
      expect(double.actual.shape).toEqual(single.actual.shape);
      // Each output is computed by the same arithmetic whichever thread runs it: equal bit for bit.
      let worst = 0;
      for (let index = 0; index < single.actual.data.length; index++) worst = Math.max(worst, Math.abs(double.actual.data[index] - single.actual.data[index]) / Math.max(1e-30, Math.abs(single.actual.data[index])));
      expect(worst).toBeLessThanOrEqual(1e-6);
    });
  }
});
