import type { Tensor } from '@deprune/tensor';
import type { KernelRegistration } from '../registry';
import type { TapTable } from '@deprune/kernels';
import { convGeometry, type ConvAttrs } from './conv-params';
import { runDirectTaps, tableTapPairs, type DirectTapsSpec } from './dw-taps';
import { biasVector, emptyResult } from './launch';
import type { DwSparseFn } from '@deprune/kernels';
import { checkTapTable } from '@deprune/kernels';

export { checkTapTable } from '@deprune/kernels';
export type { DwSparseAttrs, DwSparseFn } from '@deprune/kernels';




/**
 * The direct kernel's spec for a tap table: the table's slots, trip count table.slots (a multiple
 * of the step t, so latency is a staircase in the kept count). `op` names the caller in errors.
 */
export function sparseTapsSpec(x: Tensor, table: TapTable, bias: Tensor | null | undefined, attrs: ConvAttrs, op: string): DirectTapsSpec {
  checkTapTable(table, x.shape[1], op);
  const [kernelH, kernelW] = table.kernel;
  const g = convGeometry(x.shape, [table.channels, 1, kernelH, kernelW], { ...attrs, group: table.channels });
  return {
    x,
    geometry: g,
    pairs: (paddedWidth) => tableTapPairs(table.taps, table.channels * table.slots, g, paddedWidth),
    slots: table.slots,
    bias: biasVector(bias, g.outChannels, op),
    activation: attrs.activation,
    op: `${op} '${table.name}'`,
  };
}

export const dwSparseKernel: KernelRegistration<DwSparseFn> = {
  name: 'dwSparse',
  description: 'DEPrune-sparse depth-wise conv over per-channel kept-tap tables (constant trip count: max kept rounded up to the step t)',
  modes: '*',
  create(_gpu, config) {
    return async (x, table, bias, attrs = {}) => {
      const spec = sparseTapsSpec(x, table, bias, attrs, 'dwSparse');
      if (spec.geometry.outputShape.some((dim) => dim === 0)) return emptyResult(spec.geometry.outputShape);
      return runDirectTaps(config, spec);
    };
  },
};
