import { buildColumnTable, buildTapTable, type Activation } from '@deprune/gpu';
import type { LayerPlanEntry } from '@deprune/masks';
import { tensor } from '@deprune/tensor';
import type { NodeContext } from '../context';
import type { Fusion } from '../fusion';
import type { HostTensor } from '../types';
import { makeStep, type OpCompiler } from './step';
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
  if (kind === 'dw' && entry.strategy !== 'dcp') return `a '${entry.strategy}' entry has no sparse DW kernel: its zeros run dense`;
  if (kind === 'pw' && entry.strategy !== 'pcp') return `a '${entry.strategy}' entry has no sparse PW kernel: its zeros run dense`;
  if (kind === 'pw' && strided) return 'pwSparse needs a stride-1 1x1 conv without pads';
  return undefined;
}

export const convOp: OpCompiler = {
  opTypes: ['Conv'],
  placement: 'device',
  compile(ctx: NodeContext) {
    const info = ctx.layer();
    const fusion = ctx.fusion();
    const outputShape = ctx.shape(fusion?.output ?? ctx.output(0));
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
    const kernel = { name: convKernelName(info.kind, entry !== undefined && reason === undefined, strided) };
    if (entry !== undefined) ctx.graph.planUses.push({ layer: ctx.name, kind: entry.kind, strategy: entry.strategy, kernel: kernel.name, ...(reason !== undefined ? { reason } : {}) });
    let describe = '';
    let run: (x: HostTensor) => Promise<HostTensor>;
    if (kernel.name === 'dwSparse') {
      const table = buildTapTable(entry!, weight);
      describe = `${table.slots} of ${info.kernel[0] * info.kernel[1]} taps per channel (t = ${table.step}, ${table.balance === 'channel' ? 'balanced' : 'unbalanced'})`;
      run = (x) => ctx.kernel('dwSparse')(x, table, bias, conv);
    } else if (kernel.name === 'pwSparse') {
      const table = buildColumnTable(entry!, tensor(weight.data, [outChannels, perGroup]));
      describe = `${table.slots} of ${info.inChannels} columns per tile of ${table.tileRows} rows (t = ${table.step})`;
      run = (x) => ctx.kernel('pwSparse')(x, table, bias, { activation });
    } else if (kernel.name === 'pwDense') {
      const matrix = tensor(weight.data, [outChannels, perGroup]);
      run = (x) => ctx.kernel('pwDense')(x, matrix, bias, { activation });
    } else if (kernel.name === 'dwDense') {
      run = (x) => ctx.kernel('dwDense')(x, weight, bias, conv);
    } else {
      describe = `group ${info.group}, ${info.kernel.join('x')}, stride ${info.strides.join('x')}`;
      run = (x) => ctx.kernel('conv2d')(x, weight, bias, { ...conv, group: info.group });
    }
    const detail = [describe, fused].filter((part) => part !== '').join(' + ');
    return makeStep(ctx, {
      kernel: kernel.name,
      placement: 'device',
      operands: [ctx.operand(0)],
      ...(detail !== '' ? { detail } : {}),
      run: async ([x]) => [restoreRank(await run(asImage(x)), outputShape)],
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
