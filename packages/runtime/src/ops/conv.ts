import { buildColumnTable, buildTapTable, type Activation, type ColumnTable, type ConvAttrs, type TapTable } from '@deprune/kernels';
import type { LayerPlanEntry } from '@deprune/masks';
import type { NodeProto } from '@deprune/onnx';
import { tensor } from '@deprune/tensor';
import { NodeContext } from '../context';
import type { Fusion } from '../fusion';
import type { CompiledStep, HostTensor } from '../types';
import { makeStep, type OpCompiler } from './step';
import { keptColumnsOf, keptTapsOf, sparseKernelOf } from '../kept-indices';
import { convTransposeGeometry } from './window';

/**
 * Conv and ConvTranspose. A Conv runs the kernel its kind and plan call for:
 * - DW layer with a DCP plan entry (DEPrune, -B, -BH): `dwSparse` over the entry's kept taps;
 * - PW layer (stride 1, no pads) with a PCP entry: `pwSparse` over each row tile's kept columns;
 * - otherwise the dense kernel of its kind: `dwDense`, `pwDense`, or `conv2d` (stems, grouped,
 *   strided 1x1). Unstructured and N:M entries run dense on their zeroed weights: gpu.js has no
 *   kernel that could skip their scattered zeros, which is the point DEPrune makes.
 * A following BatchNormalization / per-channel affine is folded into the weights and bias here
 * (zeros stay zeros, so a plan's masks still hold), and the activation goes into the epilogue.
 * A DW conv chained with the PW conv after it (chains.ts) runs both halves as one `dsconv` step.
 */

/** w[o, ...] * scale[o] and bias * scale + shift, in float64, rounded once to float32. */
function foldAffine(weight: HostTensor, bias: HostTensor | undefined, fusion: Fusion | undefined, channelOf: (index: number) => number, channels: number): { weight: HostTensor; bias: HostTensor | undefined } {
  if (fusion?.scale === undefined || fusion.shift === undefined) return { weight, bias };
  const { scale, shift } = fusion;
  const folded = new Float32Array(weight.data.length);
  for (let index = 0; index < folded.length; index++) folded[index] = weight.data[index] * scale[channelOf(index)];
  const foldedBias = new Float32Array(channels);
  for (let channel = 0; channel < channels; channel++) foldedBias[channel] = (bias?.data[channel] ?? 0) * scale[channel] + shift[channel];
  return { weight: tensor(folded, weight.shape), bias: tensor(foldedBias, [channels]) };
}

/** A 1-D op's [N, C, L] runs as [N, C, 1, L]; the result goes back to the node's rank. */
function asImage(x: HostTensor): HostTensor {
  return x.shape.length === 3 ? tensor(x.data, [x.shape[0], x.shape[1], 1, x.shape[2]]) : x;
}

function restoreRank(y: HostTensor, outputShape: readonly number[]): HostTensor {
  return y.shape.length === outputShape.length ? y : tensor(y.data, outputShape);
}

/** Why a plan entry of this layer cannot use its sparse kernel here, or undefined when it can. */
function denseReason(entry: LayerPlanEntry, kind: string, sparse: boolean, strided: boolean): string | undefined {
  if (!sparse) return 'the session runs planned layers dense (sparse: false)';
  if ((kind === 'dw' || kind === 'pw') && sparseKernelOf({ kind, strategy: entry.strategy }) === null) {
    return `a '${entry.strategy}' entry has no sparse ${kind === 'dw' ? 'DW' : 'PW'} kernel: its zeros run dense`;
  }
  if (kind === 'pw' && strided) return 'pwSparse needs a stride-1 1x1 conv without pads';
  return undefined;
}

/** A Conv compiled for its kernel: what runs, and the layer as `dsconv` takes it when it chains. */
interface ConvHalf {
  kernel: 'dwSparse' | 'pwSparse' | 'dwDense' | 'pwDense' | 'conv2d';
  /** The sparse table's slots, the conv's shape, what was fused: for the step's detail. */
  detail: string;
  /** The step's output value: the fused chain's last value, else the node's output. */
  output: string;
  outputShape: number[];
  run: (x: HostTensor) => Promise<HostTensor>;
  /** Weights as the direct DW / PW kernels take them: a table (sparse) or the folded weight. */
  layer: HostTensor | TapTable | ColumnTable;
  bias: HostTensor | undefined;
  conv: ConvAttrs;
}

/** Folds the node's fusion into its weights and picks its kernel (see the comment at the top). */
function prepareConv(ctx: NodeContext): ConvHalf {
  const info = ctx.layer();
  const fusion = ctx.fusion();
  const output = fusion?.output ?? ctx.output(0);
  const outputShape = ctx.shape(output);
  const stored = ctx.constantNamed(info.weight)!;
  const [outChannels, perGroup] = stored.shape;
  // Weights as 2-D convs see them: [M, C/group, kh, kw] (a 1-D conv's kernel gets height 1).
  const weight4 = tensor(stored.data, [outChannels, perGroup, info.kernel[0], info.kernel[1]]);
  const perOutput = perGroup * info.kernel[0] * info.kernel[1];
  const { weight, bias } = foldAffine(weight4, info.bias ? ctx.constantNamed(info.bias) : undefined, fusion, (index) => Math.floor(index / perOutput), outChannels);
  const activation: Activation | undefined = fusion?.activation;
  const conv = { strides: info.strides, pads: info.pads, dilations: info.dilations, activation };
  const entry = ctx.planEntry();
  const strided = info.strides.some((s) => s !== 1) || info.pads.some((p) => p !== 0) || info.dilations.some((d) => d !== 1);
  const reason = entry === undefined ? undefined : denseReason(entry, info.kind, ctx.graph.sparse, info.kind === 'pw' && strided);
  const fused = fusion ? fusion.absorbed.map((node) => node.opType).join('+') : '';
  const kernel = convKernelName(info.kind, entry !== undefined && reason === undefined, strided);
  if (entry !== undefined) ctx.graph.planUses.push({ layer: ctx.name, kind: entry.kind, strategy: entry.strategy, kernel, ...(reason !== undefined ? { reason } : {}) });
  let describe = '';
  let layer: ConvHalf['layer'] = weight;
  let run: (x: HostTensor) => Promise<HostTensor>;
  if (kernel === 'dwSparse') {
    const table = buildTapTable(keptTapsOf(entry!), weight);
    describe = `${table.slots} of ${info.kernel[0] * info.kernel[1]} taps per channel (t = ${table.step}, ${table.balance === 'channel' ? 'balanced' : 'unbalanced'})`;
    layer = table;
    run = (x) => ctx.kernel('dwSparse')(x, table, bias, conv);
  } else if (kernel === 'pwSparse') {
    const table = buildColumnTable(keptColumnsOf(entry!), tensor(weight.data, [outChannels, perGroup]));
    describe = `${table.slots} of ${info.inChannels} columns per tile of ${table.tileRows} rows (t = ${table.step})`;
    layer = table;
    run = (x) => ctx.kernel('pwSparse')(x, table, bias, { activation });
  } else if (kernel === 'pwDense') {
    const matrix = tensor(weight.data, [outChannels, perGroup]);
    layer = matrix;
    run = (x) => ctx.kernel('pwDense')(x, matrix, bias, { activation });
  } else if (kernel === 'dwDense') {
    run = (x) => ctx.kernel('dwDense')(x, weight, bias, conv);
  } else {
    describe = `group ${info.group}, ${info.kernel.join('x')}, stride ${info.strides.join('x')}`;
    run = (x) => ctx.kernel('conv2d')(x, weight, bias, { ...conv, group: info.group });
  }
  const detail = [describe, fused].filter((part) => part !== '').join(' + ');
  return { kernel, detail, output, outputShape, run, layer, bias, conv };
}

/** A DW conv and its chained PW conv as one `dsconv` step: the DW result never leaves the device. */
function dsconvStep(ctx: NodeContext, dw: ConvHalf, pwNode: NodeProto): CompiledStep {
  const pwContext = new NodeContext(pwNode, ctx.graph);
  const pw = prepareConv(pwContext);
  const part = (half: ConvHalf) => (half.detail === '' ? half.kernel : `${half.kernel} ${half.detail}`);
  return makeStep(ctx, {
    kernel: 'dsconv',
    placement: 'device',
    operands: [ctx.operand(0)],
    outputs: [pw.output],
    nodes: [pwContext.name, ...(pwContext.fusion()?.absorbed.map((node) => node.name ?? '') ?? [])],
    detail: `${part(dw)} -> ${part(pw)}, the intermediate kept on the device`,
    // A chain pairs a DW conv (dwDense / dwSparse: a weight or a tap table) with a direct PW conv
    // (pwDense / pwSparse: a matrix or a column table), see chains.ts.
    run: async ([x]) => [
      await ctx.kernel('dsconv')(
        x,
        { dw: dw.layer as HostTensor | TapTable, dwBias: dw.bias, pw: pw.layer as HostTensor | ColumnTable, pwBias: pw.bias },
        { dw: dw.conv, pw: { activation: pw.conv.activation } },
      ),
    ],
  });
}

export const convOp: OpCompiler = {
  opTypes: ['Conv'],
  placement: 'device',
  compile(ctx: NodeContext) {
    const half = prepareConv(ctx);
    const chained = ctx.graph.chains.get(ctx.name);
    if (chained !== undefined) return dsconvStep(ctx, half, chained);
    return makeStep(ctx, {
      kernel: half.kernel,
      placement: 'device',
      operands: [ctx.operand(0)],
      ...(half.detail !== '' ? { detail: half.detail } : {}),
      run: async ([x]) => [restoreRank(await half.run(asImage(x)), half.outputShape)],
    });
  },
};

/** The kernel a Conv runs: sparse where its plan entry allows, else the dense kernel of its kind (see the comment at the top). */
function convKernelName(kind: string, sparse: boolean, strided: boolean): 'dwSparse' | 'pwSparse' | 'dwDense' | 'pwDense' | 'conv2d' {
  if (kind === 'dw') return sparse ? 'dwSparse' : 'dwDense';
  if (kind === 'pw' && !strided) return sparse ? 'pwSparse' : 'pwDense';
  return 'conv2d';
}

export const convTransposeOp: OpCompiler = {
  opTypes: ['ConvTranspose'],
  placement: 'device',
  compile(ctx: NodeContext) {
    const stored = ctx.constant(1);
    if (stored === undefined) throw ctx.unsupported(`weight '${ctx.input(1)}' is computed at run time`, 'export the model with constant weights');
    if (stored.shape.length !== 4) throw ctx.unsupported(`with a ${stored.shape.length - 2}-D kernel: only 2-D transposed convs run here`);
    const fusion = ctx.fusion();
    const geometry = convTransposeGeometry(ctx, stored.shape);
    const [inChannels, outPerGroup, kernelH, kernelW] = stored.shape;
    const outChannels = outPerGroup * geometry.group;
    const inPerGroup = inChannels / geometry.group;
    const perInput = outPerGroup * kernelH * kernelW;
    // Weight [C, M/group, kh, kw]: element (c, m) belongs to output channel group(c) * M/group + m.
    const channelOf = (index: number) => Math.floor(Math.floor(index / perInput) / inPerGroup) * outPerGroup + Math.floor((index % perInput) / (kernelH * kernelW));
    const { weight, bias } = foldAffine(stored, ctx.constant(2), fusion, channelOf, outChannels);
    const run = ctx.kernel('convTranspose2d');
    const attrs = { ...geometry, activation: fusion?.activation };
    return makeStep(ctx, {
      kernel: 'convTranspose2d',
      placement: 'device',
      operands: [ctx.operand(0)],
      detail: `${kernelH}x${kernelW}, stride ${(geometry.strides ?? [1, 1]).join('x')}${fusion ? ` + ${fusion.absorbed.map((node) => node.opType).join('+')}` : ''}`,
      run: async ([x]) => [await run(x, weight, bias ?? null, attrs)],
    });
  },
};
