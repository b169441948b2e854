import { maskLayer } from '@deprune/masks';
import { relativeL2Error } from '@deprune/tensor';
import { afterAll, expect, it } from 'vitest';
import { buildTapTable, disposeBackend, getBackend, getKernel, type GpuMode } from '../src/index';
import { DW_CASES, DW_KERNELS, dwReference, makeDwInputs, parityCases, runParityCase } from './parity/cases';
import { MODES, NODE_MODES, describeMode, dwLayer, expectParity, keptTaps, paritySeed, printWorstErrors, uniformPlan } from './helpers';

/** The DW half of the shared parity list (test/parity/cases.ts), in every Node mode; the browser suite runs the same list. */
const seed = paritySeed();
const cases = parityCases(seed, DW_KERNELS);

/** The gpu.js kernel class each Node mode must really run on (no quiet fallback to cpu). */
const KERNEL_CLASS: Partial<Record<GpuMode, string>> = { cpu: 'CPUKernel', webasm: 'WebAssemblyKernel', headlessgl: 'HeadlessGLKernel' };

afterAll(async () => {
  printWorstErrors('DW parity');
  await disposeBackend();
});

it('finds the cpu and webasm modes in Node', () => {
  expect(MODES).toEqual(expect.arrayContaining(['cpu', 'webasm']));
});

for (const mode of NODE_MODES) {
  describeMode(`DW kernels in ${mode} mode`, mode, () => {
    it(`really runs in ${mode} (gpu.js ${KERNEL_CLASS[mode]})`, async () => {
      const layer = makeDwInputs(DW_CASES[0], seed * 1000 + 9);
      await getKernel('dwDense', mode)(layer.x, layer.weight, layer.bias, DW_CASES[0].attrs);
      // Every compiled kernel is also checked against this class after its first call (GpuBackend.assertRanInMode).
      expect((await getBackend(mode)).gpu.Kernel.name).toBe(KERNEL_CLASS[mode]);
    });

    it.each(cases.map((testCase) => [testCase.name, testCase] as const))('%s', async (_name, testCase) => {
      expectParity(await runParityCase(testCase, mode));
    });

    it('the parity check has teeth: the sparse kernel is far from the unpruned reference', async () => {
      const layer = makeDwInputs(DW_CASES[0], seed * 1000 + 8);
      const plan = maskLayer(dwLayer('dw', layer.weight), { strategy: 'dcp', ratio: 0.5 });
      const actual = await getKernel('dwSparse', mode)(layer.x, buildTapTable(keptTaps(plan), layer.weight), layer.bias, DW_CASES[0].attrs);
      const unpruned = dwReference(layer, layer.weight, DW_CASES[0].attrs);
      expect(relativeL2Error(actual.data, unpruned.data)).toBeGreaterThan(0.05);
    });

    it('dwSparse with kept 0 outputs just activation(bias)', async () => {
      const layer = makeDwInputs(DW_CASES[0], seed * 1000 + 7);
      const table = buildTapTable(keptTaps(uniformPlan(dwLayer('dw', layer.weight), [])), layer.weight);
      expect(table.slots).toBe(0);
      const actual = await getKernel('dwSparse', mode)(layer.x, table, layer.bias, { pads: [1, 1, 1, 1], activation: 'relu6' });
      const plane = actual.shape[2] * actual.shape[3];
      for (let channel = 0; channel < actual.shape[1]; channel++) {
        const expected = Math.min(Math.max(layer.bias!.data[channel], 0), 6);
        for (let at = 0; at < plane; at++) expect(actual.data[channel * plane + at]).toBeCloseTo(expected, 6);
      }
    });
  });
}
