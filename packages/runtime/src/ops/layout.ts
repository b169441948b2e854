import { DataType, decodeNumericTensor, tensorAttribute } from '@deprune/onnx';
import { concat, depthToSpace, expand, gather, pad, shapeSize, slice, tensor, tile, transpose } from '@deprune/tensor';
import type { HostTensor } from '../types';
import { makeStep, type OpCompiler } from './step';

/**
 * Data movement on the host: shapes are static per compile, so Reshape, Flatten, Squeeze and
 * Unsqueeze only relabel the data (no copy), and Transpose, Concat, Slice, Gather, Pad, Expand,
 * Tile, Split and DepthToSpace copy with @deprune/tensor's dtype-preserving functions. None of it
 * does arithmetic, so none of it needs a kernel; in the GL / WebGPU modes it is where a value
 * comes back from the device (see the README).
 */

/** Same data, the node's inferred output shape. */
export const reshapeOps: OpCompiler = {
  opTypes: ['Reshape', 'Flatten', 'Squeeze', 'Unsqueeze', 'Identity', 'Dropout'],
  placement: 'host',
  compile(ctx) {
    if (ctx.opType === 'Dropout' && ctx.output(1) !== '' && ctx.graph.index.consumers.has(ctx.output(1))) {
      throw ctx.unsupported("with its mask output in use: the runtime runs Dropout as the identity (inference)");
    }
    const outputShape = ctx.outputShape();
    return makeStep(ctx, {
      kernel: `host:${ctx.opType.toLowerCase()}`,
      placement: 'host',
      operands: [ctx.operand(0)],
      outputs: [ctx.output(0)],
      run: ([x]) => [tensor(x.data, outputShape)],
    });
  },
};

/** ONNX TensorProto data types UINT8 2, INT8 3, UINT16 4, INT16 5, INT32 6, INT64 7, UINT32 12, UINT64 13. */
const INTEGER_TYPES = new Set<number>([2, 3, 4, 5, 6, 7, 12, 13]);

/** Values are float32 here: a cast to a float type changes nothing, to an integer type truncates, to bool tests for non-zero. */
export const castOp: OpCompiler = {
  opTypes: ['Cast'],
  placement: 'host',
  compile(ctx) {
    const to = ctx.int('to', DataType.FLOAT);
    const integer = INTEGER_TYPES.has(to);
    const boolean = to === DataType.BOOL;
    if (!integer && !boolean && to !== DataType.FLOAT && to !== DataType.DOUBLE && to !== DataType.FLOAT16) {
      throw ctx.unsupported(`to data type ${to}: values are float32 here, cast to float, integer or bool types only`);
    }
    return makeStep(ctx, {
      kernel: 'host:cast',
      placement: 'host',
      operands: [ctx.operand(0)],
      run: ([x]) => {
        if (!integer && !boolean) return [x];
        const out = new Float32Array(x.data.length);
        for (let index = 0; index < out.length; index++) out[index] = boolean ? (x.data[index] !== 0 ? 1 : 0) : Math.trunc(x.data[index]);
        return [tensor(out, x.shape)];
      },
    });
  },
};

export const transposeOp: OpCompiler = {
  opTypes: ['Transpose'],
  placement: 'host',
  compile(ctx) {
    const perm = ctx.ints('perm');
    return makeStep(ctx, { kernel: 'host:transpose', placement: 'host', operands: [ctx.operand(0)], run: ([x]) => [transpose(x, perm)] });
  },
};

export const concatOp: OpCompiler = {
  opTypes: ['Concat'],
  placement: 'host',
  compile(ctx) {
    const operands = Array.from({ length: ctx.inputCount }, (_, index) => ctx.operand(index));
    const axis = ctx.int('axis', 0);
    return makeStep(ctx, { kernel: 'host:concat', placement: 'host', operands, run: (inputs) => [concat(inputs, axis)] });
  },
};

export const sliceOp: OpCompiler = {
  opTypes: ['Slice'],
  placement: 'host',
  compile(ctx) {
    let starts: number[];
    let ends: number[];
    let axes: number[] | undefined;
    let steps: number[] | undefined;
    if (ctx.opset < 10) {
      starts = ctx.ints('starts') ?? [];
      ends = ctx.ints('ends') ?? [];
      axes = ctx.ints('axes');
    } else {
      starts = ctx.needValue(1, 'starts');
      ends = ctx.needValue(2, 'ends');
      axes = ctx.has(3) ? ctx.needValue(3, 'axes') : undefined;
      steps = ctx.has(4) ? ctx.needValue(4, 'steps') : undefined;
    }
    return makeStep(ctx, { kernel: 'host:slice', placement: 'host', operands: [ctx.operand(0)], run: ([x]) => [slice(x, starts, ends, axes, steps)] });
  },
};

export const gatherOp: OpCompiler = {
  opTypes: ['Gather'],
  placement: 'host',
  compile(ctx) {
    const axis = ctx.int('axis', 0);
    return makeStep(ctx, {
      kernel: 'host:gather',
      placement: 'host',
      operands: [ctx.operand(0), ctx.operand(1)],
      run: ([x, indices]) => [gather(x, indices, axis)],
    });
  },
};

export const padOp: OpCompiler = {
  opTypes: ['Pad'],
  placement: 'host',
  compile(ctx) {
    const pads = ctx.opset < 11 ? ctx.ints('pads') ?? [] : ctx.needValue(1, 'pads');
    if (ctx.opset >= 18 && ctx.has(3)) throw ctx.unsupported('with the axes input');
    const value = ctx.opset < 11 ? ctx.float('value', 0) : (ctx.value(2)?.[0] ?? 0);
    const mode = ctx.str('mode', 'constant');
    if (mode !== 'constant' && mode !== 'reflect' && mode !== 'edge') throw ctx.unsupported(`mode '${mode}'`);
    return makeStep(ctx, { kernel: `host:pad`, placement: 'host', operands: [ctx.operand(0)], run: ([x]) => [pad(x, pads, mode, value)] });
  },
};

export const expandTileOps: OpCompiler = {
  opTypes: ['Expand', 'Tile'],
  placement: 'host',
  compile(ctx) {
    if (ctx.opType === 'Expand') {
      const shape = ctx.needValue(1, 'shape');
      return makeStep(ctx, { kernel: 'host:expand', placement: 'host', operands: [ctx.operand(0)], run: ([x]) => [expand(x, shape)] });
    }
    const repeats = ctx.needValue(1, 'repeats');
    return makeStep(ctx, { kernel: 'host:tile', placement: 'host', operands: [ctx.operand(0)], run: ([x]) => [tile(x, repeats)] });
  },
};

export const splitOp: OpCompiler = {
  opTypes: ['Split'],
  placement: 'host',
  compile(ctx) {
    const inputShape = ctx.shape(0);
    const rawAxis = ctx.int('axis', 0);
    const axis = rawAxis < 0 ? rawAxis + inputShape.length : rawAxis;
    const outputs = (ctx.node.output ?? []).filter((name) => name !== '');
    // The inferred output shapes say where each piece starts and ends.
    const sizes = (ctx.node.output ?? []).map((name) => (name === '' ? 0 : ctx.shape(name)[axis]));
    return makeStep(ctx, {
      kernel: 'host:split',
      placement: 'host',
      operands: [ctx.operand(0)],
      outputs,
      run: ([x]) => {
        const pieces: HostTensor[] = [];
        let start = 0;
        (ctx.node.output ?? []).forEach((name, index) => {
          if (name !== '') pieces.push(slice(x, [start], [start + sizes[index]], [axis]));
          start += sizes[index];
        });
        return pieces;
      },
    });
  },
};

export const depthToSpaceOp: OpCompiler = {
  opTypes: ['DepthToSpace'],
  placement: 'host',
  compile(ctx) {
    const blocksize = ctx.int('blocksize', 0);
    const mode = ctx.str('mode', 'DCR');
    if (mode !== 'DCR' && mode !== 'CRD') throw ctx.unsupported(`mode '${mode}'`);
    return makeStep(ctx, { kernel: 'host:depthToSpace', placement: 'host', operands: [ctx.operand(0)], run: ([x]) => [depthToSpace(x, blocksize, mode)] });
  },
};

/** Outputs too large for shape inference to carry as values (it folds the small ones). */
export const constantOfShapeOp: OpCompiler = {
  opTypes: ['ConstantOfShape'],
  placement: 'host',
  compile(ctx) {
    const outputShape = ctx.outputShape();
    const attribute = tensorAttribute(ctx.node, 'value');
    const value = attribute === undefined ? 0 : (decodeNumericTensor(attribute, { file: ctx.file }).values[0] ?? 0);
    return makeStep(ctx, {
      kernel: 'host:constantOfShape',
      placement: 'host',
      operands: [],
      run: () => [tensor(new Float32Array(shapeSize(outputShape)).fill(value), outputShape)],
    });
  },
};
