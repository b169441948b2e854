import { ShapeError, UsageError } from '@deprune/errors';
import type { Tensor } from '@deprune/tensor';
import type { KernelRegistration } from '../registry';
import type { ColumnTable, TapTable } from '@deprune/kernels';
import type { ConvAttrs } from './conv-params';
import { denseTapsSpec } from './dw-dense';
import { sparseTapsSpec } from './dw-sparse';
import { directTapsStep, type DirectTapsSpec } from './dw-taps';
import { biasVector, emptyResult, float32Data, readback } from './launch';
import { pointwiseShape, pwDenseStep } from './pw-dense';
import { checkColumnTable, pwSparseStep } from './pw-sparse';
import type { DsconvLayers, DsconvFn } from '@deprune/kernels';
export type { DsconvLayers, DsconvAttrs, DsconvFn } from '@deprune/kernels';




function isTable<T extends { kind: string }>(value: unknown, kind: T['kind']): value is T {
  return value !== null && typeof value === 'object' && (value as { kind?: unknown }).kind === kind;
}

/** The DW half as the direct kernel's spec: `dwSparse`'s for a tap table, `dwDense`'s for a weight. */
function dwHalf(x: Tensor, layers: DsconvLayers, attrs: ConvAttrs): DirectTapsSpec {
  if (isTable<TapTable>(layers.dw, 'dw-taps')) return sparseTapsSpec(x, layers.dw, layers.dwBias, attrs, 'dsconv');
  const weight = layers.dw;
  if (weight === null || typeof weight !== 'object' || !Array.isArray(weight.shape)) {
    throw new UsageError('dsconv needs the DW half as a weight tensor [C, 1, kh, kw] or a tap table from buildTapTable(keptTaps, weights)');
  }
  return denseTapsSpec(x, weight, layers.dwBias, attrs, 'dsconv DW');
}

export const dsconvKernel: KernelRegistration<DsconvFn> = {
  name: 'dsconv',
  description: 'depth-wise separable block (DW then PW, dense or sparse halves) with the intermediate kept on the device',
  modes: '*',
  create(_gpu, config) {
    return async (x, layers, attrs = {}) => {
      if (x.shape.length !== 4) throw new ShapeError(`dsconv input must be [N, C, H, W], got [${x.shape.join(', ')}]`);
      if (layers === null || typeof layers !== 'object') throw new UsageError('dsconv needs its layers: { dw, dwBias?, pw, pwBias? }');
      const dw = dwHalf(x, layers, attrs.dw ?? {});
      const g = dw.geometry;
      const sparsePw = isTable<ColumnTable>(layers.pw, 'pw-columns') ? layers.pw : undefined;
      if (sparsePw !== undefined) checkColumnTable(sparsePw, g.outChannels, 'dsconv');
      else if (layers.pw === null || typeof layers.pw !== 'object' || !Array.isArray((layers.pw as Tensor).shape)) {
        throw new UsageError('dsconv needs the PW half as a weight tensor [Cout, C] / [Cout, C, 1, 1] or a column table from buildColumnTable(keptColumns, weights)');
      }
      // The PW half reads the DW result, [N, C, Ho, Wo].
      const { outChannels, inChannels } = sparsePw ?? pointwiseShape(g.outputShape, (layers.pw as Tensor).shape, 'dsconv PW');
      const outputShape = [g.batch, outChannels, g.outHeight, g.outWidth];
      const pwBias = biasVector(layers.pwBias, outChannels, 'dsconv');
      if (outputShape.some((dim) => dim === 0)) return emptyResult(outputShape);
      // The DW result stays on the device (pipeline) and is the PW step's input as it is.
      const planes = await directTapsStep(config, dw, true);
      const shape = { batch: g.batch, inChannels, outChannels, height: g.outHeight, width: g.outWidth };
      const out =
        sparsePw !== undefined
          ? await pwSparseStep(config, planes, shape, sparsePw, pwBias, attrs.pw?.activation)
          : await pwDenseStep(config, planes, shape, float32Data(layers.pw as Tensor), pwBias, attrs.pw?.activation);
      return readback(out, outputShape);
    };
  },
};
