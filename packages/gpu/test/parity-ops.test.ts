import { afterAll, it } from 'vitest';
import { disposeBackend } from '../src/index';
import { OP_KERNELS } from './parity/op-cases';
import { parityCases, runParityCase } from './parity/cases';
import { NODE_MODES, describeMode, expectParity, paritySeed, printWorstErrors } from './helpers';

/** The runtime's operator kernels from the shared parity list (test/parity/op-cases.ts), in every Node mode; the browser suite runs the same list. */
const cases = parityCases(paritySeed(), OP_KERNELS);

afterAll(async () => {
  printWorstErrors('operator kernel parity');
  await disposeBackend();
});

for (const mode of NODE_MODES) {
  describeMode(`operator kernels in ${mode} mode`, mode, () => {
    it.each(cases.map((testCase) => [testCase.name, testCase] as const))('%s', async (_name, testCase) => {
      expectParity(await runParityCase(testCase, mode));
    });
  });
}
