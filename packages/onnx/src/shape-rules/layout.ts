/** Shape rules of the shape-manipulation operators: reshape, transpose, (un)squeeze, concat, split, slice, gather, expand, tile, pad, resize, depth/space. */
import { floatsAttribute, hasAttribute } from '../attributes';
import { broadcastShapes, concatValues, elementCount, gatherValues, mapBroadcast, sliceValues, tileValues, transposeValues } from '../small-tensor';
import { MAX_VALUE_ELEMENTS, OpContext, type Rule, normalizeAxis, formatShape } from './context';

export const flatten: Rule = (ctx: OpContext) => {
  const x = ctx.shape(0);
  const axis = ctx.int('axis', 1);
  const a = axis < 0 ? axis + x.length : axis;
  if (a < 0 || a > x.length) ctx.fail(`axis ${axis} is out of range for rank ${x.length}`);
  ctx.set(0, [elementCount(x.slice(0, a)), elementCount(x.slice(a))], ctx.value(0));
};

export const reshape: Rule = (ctx: OpContext) => {
  const x = ctx.shape(0);
  const target = ctx.opset < 5 || !ctx.has(1) ? ctx.ints('shape') : ctx.needValue(1, 'the target shape');
  if (!target) ctx.fail('no target shape');
  const allowZero = ctx.int('allowzero', 0) === 1;
  const out = target.map((dim, i) => {
    if (dim === 0 && !allowZero) {
      if (i >= x.length) ctx.fail(`target shape ${formatShape(target)} copies axis ${i} that the input ${formatShape(x)} does not have`);
      return x[i];
    }
    return dim;
  });
  const inferred = out.filter((dim) => dim === -1).length;
  if (inferred > 1) ctx.fail(`target shape ${formatShape(target)} has more than one -1`);
  const total = elementCount(x);
  if (inferred === 1) {
    const known = elementCount(out.filter((dim) => dim !== -1));
    if (known === 0 || total % known !== 0) ctx.fail(`cannot reshape ${formatShape(x)} to ${formatShape(target)}`);
    out[out.indexOf(-1)] = total / known;
  }
  if (out.some((dim) => dim < 0)) ctx.fail(`invalid target shape ${formatShape(target)}`);
  if (elementCount(out) !== total) ctx.fail(`cannot reshape ${formatShape(x)} (${total} elements) to ${formatShape(out)}`);
  ctx.set(0, out, ctx.value(0));
};

export const transpose: Rule = (ctx: OpContext) => {
  const x = ctx.shape(0);
  const perm = ctx.ints('perm') ?? x.map((_, i) => x.length - 1 - i);
  if (perm.length !== x.length || [...perm].sort((a, b) => a - b).some((p, i) => p !== i)) {
    ctx.fail(`perm ${formatShape(perm)} is not a permutation of the ${x.length} input axes`);
  }
  const out = perm.map((p) => x[p]);
  const input = ctx.value(0);
  ctx.set(0, out, input ? transposeValues({ shape: x, values: input }, perm, out) : undefined);
};

function axesOperand(ctx: OpContext): number[] | undefined {
  if (ctx.opset >= 13 && ctx.has(1)) return ctx.needValue(1, 'axes');
  return ctx.ints('axes');
}

export const squeeze: Rule = (ctx: OpContext) => {
  const x = ctx.shape(0);
  const axes = axesOperand(ctx);
  let out: number[];
  if (!axes || axes.length === 0) out = x.filter((dim) => dim !== 1);
  else {
    const normalized = axes.map((axis) => normalizeAxis(ctx, axis, x.length));
    for (const axis of normalized) if (x[axis] !== 1) ctx.fail(`cannot squeeze axis ${axis} of size ${x[axis]}`);
    out = x.filter((_, i) => !normalized.includes(i));
  }
  ctx.set(0, out, ctx.value(0));
};

export const unsqueeze: Rule = (ctx: OpContext) => {
  const x = ctx.shape(0);
  const axes = axesOperand(ctx);
  if (!axes) ctx.fail('axes are missing');
  const rank = x.length + axes.length;
  const normalized = axes.map((axis) => normalizeAxis(ctx, axis, rank));
  if (new Set(normalized).size !== normalized.length) ctx.fail(`axes ${formatShape(axes)} repeat an axis`);
  const out: number[] = [];
  let next = 0;
  for (let i = 0; i < rank; i++) out.push(normalized.includes(i) ? 1 : x[next++]);
  ctx.set(0, out, ctx.value(0));
};

export const concat: Rule = (ctx: OpContext) => {
  const indices = (ctx.node.input ?? []).map((_, i) => i).filter((i) => ctx.has(i));
  const shapes = indices.map((i) => ctx.shape(i));
  if (shapes.length === 0) ctx.fail('no inputs');
  const rank = shapes[0].length;
  const axis = normalizeAxis(ctx, ctx.int('axis', 0), rank);
  const out = [...shapes[0]];
  out[axis] = 0;
  for (const shape of shapes) {
    if (shape.length !== rank || shape.some((dim, i) => i !== axis && dim !== shapes[0][i])) {
      ctx.fail(`input shapes ${shapes.map(formatShape).join(', ')} do not concatenate on axis ${axis}`);
    }
    out[axis] += shape[axis];
  }
  const values = indices.map((i) => ctx.value(i));
  const value = values.every((v) => v !== undefined)
    ? concatValues(shapes.map((shape, k) => ({ shape, values: values[k]! })), axis, out)
    : undefined;
  ctx.set(0, out, value);
};

export const split: Rule = (ctx: OpContext) => {
  const x = ctx.shape(0);
  const axis = normalizeAxis(ctx, ctx.int('axis', 0), x.length);
  const outputs = (ctx.node.output ?? []).length;
  let sizes: number[] | undefined = ctx.opset >= 13 && ctx.has(1) ? ctx.needValue(1, 'split') : ctx.ints('split');
  if (!sizes || sizes.length === 0) {
    const parts = hasAttribute(ctx.node, 'num_outputs') ? ctx.int('num_outputs', outputs) : outputs;
    const chunk = Math.ceil(x[axis] / parts);
    if (!hasAttribute(ctx.node, 'num_outputs') && x[axis] % parts !== 0) ctx.fail(`axis size ${x[axis]} does not split evenly into ${parts}`);
    sizes = Array.from({ length: parts }, (_, i) => Math.max(0, Math.min(chunk, x[axis] - i * chunk)));
  }
  if (sizes.reduce((s, v) => s + v, 0) !== x[axis]) ctx.fail(`split sizes ${formatShape(sizes)} do not add up to ${x[axis]}`);
  const input = ctx.value(0);
  let start = 0;
  sizes.forEach((size, i) => {
    const out = x.map((dim, a) => (a === axis ? size : dim));
    const starts = x.map((_, a) => (a === axis ? start : 0));
    const value = input ? sliceValues({ shape: x, values: input }, starts, x.map(() => 1), out) : undefined;
    ctx.set(i, out, value);
    start += size;
  });
};

export const slice: Rule = (ctx: OpContext) => {
  const x = ctx.shape(0);
  let starts: number[];
  let ends: number[];
  let axes: number[] | undefined;
  let steps: number[] | undefined;
  if (ctx.opset < 10) {
    starts = ctx.ints('starts') ?? ctx.fail('starts are missing');
    ends = ctx.ints('ends') ?? ctx.fail('ends are missing');
    axes = ctx.ints('axes');
  } else {
    starts = ctx.needValue(1, 'starts');
    ends = ctx.needValue(2, 'ends');
    axes = ctx.has(3) ? ctx.needValue(3, 'axes') : undefined;
    steps = ctx.has(4) ? ctx.needValue(4, 'steps') : undefined;
  }
  axes ??= starts.map((_, i) => i);
  steps ??= starts.map(() => 1);
  if (ends.length !== starts.length || axes.length !== starts.length || steps.length !== starts.length) {
    ctx.fail('starts, ends, axes and steps differ in length');
  }
  const out = [...x];
  const first = x.map(() => 0);
  const stride = x.map(() => 1);
  axes.forEach((rawAxis, k) => {
    const axis = normalizeAxis(ctx, rawAxis, x.length);
    const dim = x[axis];
    const step = steps![k];
    if (step === 0) ctx.fail('a slice step is 0');
    let start = starts[k] < 0 ? starts[k] + dim : starts[k];
    let end = ends[k] < 0 ? ends[k] + dim : ends[k];
    if (step > 0) {
      start = Math.min(Math.max(start, 0), dim);
      end = Math.min(Math.max(end, 0), dim);
    } else {
      start = Math.min(Math.max(start, 0), dim - 1);
      end = Math.min(Math.max(end, -1), dim - 1);
    }
    out[axis] = Math.max(0, Math.ceil((end - start) / step));
    first[axis] = start;
    stride[axis] = step;
  });
  const input = ctx.value(0);
  ctx.set(0, out, input ? sliceValues({ shape: x, values: input }, first, stride, out) : undefined);
};

export const gather: Rule = (ctx: OpContext) => {
  const data = ctx.shape(0);
  const indices = ctx.shape(1);
  const axis = normalizeAxis(ctx, ctx.int('axis', 0), data.length);
  const out = [...data.slice(0, axis), ...indices, ...data.slice(axis + 1)];
  const dataValue = ctx.value(0);
  const indexValue = ctx.value(1);
  let value: number[] | undefined;
  if (dataValue && indexValue && elementCount(out) <= MAX_VALUE_ELEMENTS) {
    const normalized = indexValue.map((i) => (i < 0 ? i + data[axis] : i));
    if (normalized.some((i) => i < 0 || i >= data[axis])) ctx.fail(`an index is out of range for axis size ${data[axis]}`);
    value = gatherValues({ shape: data, values: dataValue }, { shape: indices, values: normalized }, axis, out);
  }
  ctx.set(0, out, value);
};

export const gatherElements: Rule = (ctx: OpContext) => {
  ctx.shape(0);
  ctx.set(0, ctx.shape(1));
};

export const expand: Rule = (ctx: OpContext) => {
  const x = ctx.shape(0);
  const target = ctx.needValue(1, 'the target shape');
  const out = broadcastShapes([x, target]);
  if (!out) ctx.fail(`input ${formatShape(x)} does not expand to ${formatShape(target)}`);
  const input = ctx.value(0);
  const value = input && elementCount(out) <= MAX_VALUE_ELEMENTS ? mapBroadcast(out, [{ shape: x, values: input }], (v) => v) : undefined;
  ctx.set(0, out, value);
};

export const tile: Rule = (ctx: OpContext) => {
  const x = ctx.shape(0);
  const repeats = ctx.needValue(1, 'repeats');
  if (repeats.length !== x.length) ctx.fail(`repeats ${formatShape(repeats)} do not match rank ${x.length}`);
  const out = x.map((dim, i) => dim * repeats[i]);
  const input = ctx.value(0);
  const value = input && elementCount(out) <= MAX_VALUE_ELEMENTS ? tileValues({ shape: x, values: input }, out) : undefined;
  ctx.set(0, out, value);
};

export const resize: Rule = (ctx: OpContext) => {
  const x = ctx.shape(0);
  const isUpsample = ctx.node.opType === 'Upsample';
  const scalesIndex = isUpsample || ctx.opset < 11 ? 1 : 2;
  const axesAttr = ctx.ints('axes');
  const axes = axesAttr ? axesAttr.map((a) => normalizeAxis(ctx, a, x.length)) : x.map((_, i) => i);
  let scales: number[] | undefined;
  let sizes: number[] | undefined;
  if (isUpsample && ctx.opset < 9) scales = floatsAttribute(ctx.node, 'scales');
  else {
    const scaleValues = ctx.has(scalesIndex) ? ctx.value(scalesIndex) : undefined;
    const sizeValues = !isUpsample && ctx.opset >= 11 && ctx.has(3) ? ctx.value(3) : undefined;
    if (sizeValues && sizeValues.length > 0) sizes = sizeValues;
    else if (scaleValues && scaleValues.length > 0) scales = scaleValues;
    else if (ctx.has(3) && !sizeValues) ctx.needValue(3, 'sizes');
    else if (ctx.has(scalesIndex)) ctx.needValue(scalesIndex, 'scales');
  }
  const out = [...x];
  if (sizes) {
    if (sizes.length !== axes.length) ctx.fail(`sizes ${formatShape(sizes)} do not match ${axes.length} axes`);
    const policy = ctx.str('keep_aspect_ratio_policy', 'stretch');
    if (policy === 'stretch') axes.forEach((axis, k) => (out[axis] = sizes![k]));
    else {
      const ratios = axes.map((axis, k) => sizes![k] / x[axis]);
      const scale = policy === 'not_larger' ? Math.min(...ratios) : Math.max(...ratios);
      axes.forEach((axis) => (out[axis] = Math.round(scale * x[axis])));
    }
  } else if (scales) {
    if (scales.length !== axes.length) ctx.fail(`scales ${formatShape(scales)} do not match ${axes.length} axes`);
    // onnxruntime multiplies in float32 and truncates: int64(float(in) * scale).
    axes.forEach((axis, k) => (out[axis] = Math.floor(Math.fround(x[axis] * Math.fround(scales![k])))));
  } else ctx.fail('neither scales nor sizes are given');
  ctx.set(0, out);
};

export const pad: Rule = (ctx: OpContext) => {
  const x = ctx.shape(0);
  const pads = ctx.opset < 11 ? ctx.ints('pads') ?? ctx.fail('pads are missing') : ctx.needValue(1, 'pads');
  const axes = ctx.has(3) ? ctx.needValue(3, 'axes').map((a) => normalizeAxis(ctx, a, x.length)) : x.map((_, i) => i);
  if (pads.length !== 2 * axes.length) ctx.fail(`pads ${formatShape(pads)} do not match ${axes.length} axes`);
  const out = [...x];
  axes.forEach((axis, k) => (out[axis] = x[axis] + pads[k] + pads[k + axes.length]));
  ctx.set(0, out);
};

export const depthToSpace: Rule = (ctx: OpContext) => {
  const x = ctx.shape(0);
  const block = ctx.int('blocksize', 1);
  if (x.length !== 4 || x[1] % (block * block) !== 0) ctx.fail(`input ${formatShape(x)} does not fit blocksize ${block}`);
  ctx.set(0, [x[0], x[1] / (block * block), x[2] * block, x[3] * block]);
};

export const spaceToDepth: Rule = (ctx: OpContext) => {
  const x = ctx.shape(0);
  const block = ctx.int('blocksize', 1);
  if (x.length !== 4 || x[2] % block !== 0 || x[3] % block !== 0) ctx.fail(`input ${formatShape(x)} does not fit blocksize ${block}`);
  ctx.set(0, [x[0], x[1] * block * block, x[2] / block, x[3] / block]);
};
