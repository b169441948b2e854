import { afterAll, expect, it } from 'vitest';
import { disposeBackend } from '../src/index';
import { PW_KERNELS, parityCases, runParityCase } from './parity/cases';
import { MODES, NODE_MODES, describeMode, expectParity, paritySeed, printWorstErrors } from './helpers';

/** The PW / conv / gemm half of the shared parity list (test/parity/cases.ts), in every Node mode; the browser suite runs the same list. */
const cases = parityCases(paritySeed(), PW_KERNELS);

afterAll(async () => {
  printWorstErrors('PW / conv / gemm parity');
  await disposeBackend();
});

it('finds the cpu and webasm modes in Node', () => {
  expect(MODES).toEqual(expect.arrayContaining(['cpu', 'webasm']));
});

for (const mode of NODE_MODES) {
  describeMode(`PW, conv and gemm kernels in ${mode} mode`, mode, () => {
    it.each(cases.map((testCase) => [testCase.name, testCase] as const))('%s', async (_name, testCase) => {
      expectParity(await runParityCase(testCase, mode));
    });
  });
}
