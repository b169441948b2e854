import { ShapeError, UsageError } from '@deprune/errors';
import type { Tensor } from '@deprune/tensor';
import type { KernelRegistration } from '../registry';
import type { TapTable } from '../tables';
import { convGeometry, type ConvAttrs } from './conv-params';
import { runDirectTaps, tableTapPairs, type DirectTapsSpec } from './dw-taps';
import { biasVector, emptyResult } from './launch';

export type DwSparseAttrs = ConvAttrs;

/**
 * DEPrune-sparse depth-wise conv: x [N, C, H, W] and a tap table built from the layer's plan entry
 * and weights (`buildTapTable`) -> [N, C, Ho, Wo]. Only kept taps are read.
 */
export type DwSparseFn = (x: Tensor, table: TapTable, bias?: Tensor | null, attrs?: DwSparseAttrs) => Promise<Tensor<Float32Array>>;

export function checkTapTable(table: TapTable, channels: number, op: string): void {
  if (table === null || typeof table !== 'object' || table.kind !== 'dw-taps') {
    throw new UsageError(`${op} needs a tap table from buildTapTable(entry, weights)`);
  }
  if (table.channels !== channels) {
    throw new ShapeError(`${op}: the tap table of '${table.name}' has ${table.channels} channels but the input has ${channels}`, { node: table.name });
  }
}

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
