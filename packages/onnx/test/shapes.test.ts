import { describe, expect, it } from 'vitest';
import { ShapeError } from '@deprune/errors';
import { tensor } from '@deprune/tensor';
import { DataType, GraphBuilder, encodeFloatTensor, encodeInt64Tensor, inferShapes, type OnnxModel } from '../src/index';
import { computedValues, ortAllValues, randn, uniform } from './helpers/graphs';

interface Case {
  model: OnnxModel;
  inputs: Record<string, readonly number[]>;
  /** Shapes worked out by hand for some values (the rest are checked against onnxruntime only). */
  expected: Record<string, number[]>;
  /** Values of shape operands worked out by hand. */
  expectedValues?: Record<string, number[]>;
}

const floats = (values: number[]) => tensor(Float32Array.from(values), [values.length]);

function convFamily(): Case {
  const b = new GraphBuilder({ name: 'conv-family', opset: 17 });
  const x = b.input('x', ['N', 3, 17, 23]);
  b.node('Conv', [x, b.weight('w1', randn([8, 3, 3, 3], 1))], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] }, { name: 'conv_s2', outputs: ['c1'] });
  b.node('Conv', ['c1', b.weight('w2', randn([8, 4, 3, 3], 2))], { group: 2, dilations: [2, 2], pads: [2, 1, 0, 3] }, { outputs: ['c2'] });
  b.node('Conv', ['c2', b.weight('w3', randn([6, 8, 4, 4], 3))], { auto_pad: 'SAME_UPPER', strides: [2, 3] }, { outputs: ['same_upper'] });
  b.node('Conv', ['c2', b.weight('w4', randn([6, 8, 3, 3], 4))], { auto_pad: 'SAME_LOWER', strides: [2, 2] }, { outputs: ['same_lower'] });
  b.node('Conv', ['c2', b.weight('w5', randn([6, 8, 3, 2], 5))], { auto_pad: 'VALID', strides: [1, 2] }, { outputs: ['valid'] });
  b.node('Conv', ['c2', b.weight('w6', randn([16, 1, 3, 3], 6))], { group: 8, pads: [1, 1, 1, 1] }, { outputs: ['depth_multiplier'] });
  b.node('ConvTranspose', ['c1', b.weight('wt1', randn([8, 4, 3, 3], 7))], { strides: [2, 2], pads: [1, 1, 1, 1], output_padding: [1, 0] }, { outputs: ['deconv'] });
  b.node('ConvTranspose', ['c1', b.weight('wt2', randn([8, 2, 2, 2], 8))], { strides: [2, 2], group: 2, output_shape: [18, 24] }, { outputs: ['deconv_shape'] });
  const bn = b.node(
    'BatchNormalization',
    ['c1', b.weight('gamma', randn([8], 9)), b.weight('beta', randn([8], 10)), b.weight('mean', randn([8], 11)), b.weight('var', uniform([8], 12, 0.5, 1.5))],
    {},
    { outputs: ['bn'] },
  );
  let act = bn;
  for (const [op, attrs] of [
    ['Relu', {}], ['LeakyRelu', { alpha: 0.1 }], ['HardSigmoid', { alpha: 0.2, beta: 0.5 }], ['HardSwish', {}], ['Sigmoid', {}],
    ['Tanh', {}], ['Abs', {}], ['Neg', {}], ['Exp', {}], ['Erf', {}], ['Softmax', { axis: 1 }], ['Identity', {}], ['Floor', {}],
    ['Ceil', {}], ['Reciprocal', {}], ['Sqrt', {}], ['Log', {}], ['Dropout', {}],
  ] as const) {
    act = b.node(op, [act], attrs);
  }
  b.node('Clip', [bn, b.weight('lo', tensor(new Float32Array([0]), [])), b.weight('hi', tensor(new Float32Array([6]), []))], {}, { outputs: ['clip'] });
  b.node('MaxPool', [bn], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], ceil_mode: 1 }, { outputs: ['maxpool_ceil'] });
  b.node('MaxPool', [bn], { kernel_shape: [2, 2], strides: [2, 2], pads: [1, 1, 1, 1], ceil_mode: 1 }, { outputs: ['maxpool_ceil_drop'] });
  b.node('MaxPool', [bn], { kernel_shape: [2, 3], strides: [2, 2] }, { outputs: ['maxpool_floor'] });
  b.node('AveragePool', [bn], { kernel_shape: [3, 3], strides: [2, 2], auto_pad: 'SAME_UPPER' }, { outputs: ['avgpool_same'] });
  b.node('AveragePool', [bn], { kernel_shape: [3, 2], strides: [3, 2], count_include_pad: 0 }, { outputs: ['avgpool'] });
  b.node('GlobalAveragePool', [bn], {}, { outputs: ['gap'] });
  b.node('Pad', [bn, b.int64('pads', [0, 0, 1, 2, 0, 0, 3, 4])], {}, { outputs: ['padded'] });
  b.node('LayerNormalization', [bn, b.weight('ln_scale', randn([12], 13)), b.weight('ln_bias', randn([12], 14))], { axis: -1 }, { outputs: ['layernorm'] });
  b.node('InstanceNormalization', [bn, b.weight('in_scale', randn([8], 15)), b.weight('in_bias', randn([8], 16))], {}, { outputs: ['instancenorm'] });
  b.output(act);
  return {
    model: b.build(),
    inputs: { x: [1, 3, 17, 23] },
    expected: {
      c1: [1, 8, 9, 12],
      c2: [1, 8, 7, 12],
      same_upper: [1, 6, 4, 4],
      same_lower: [1, 6, 4, 6],
      valid: [1, 6, 5, 6],
      depth_multiplier: [1, 16, 7, 12],
      deconv: [1, 4, 18, 23],
      deconv_shape: [1, 4, 18, 24],
      maxpool_ceil: [1, 8, 5, 7],
      maxpool_ceil_drop: [1, 8, 5, 7],
      maxpool_floor: [1, 8, 4, 5],
      avgpool_same: [1, 8, 5, 6],
      avgpool: [1, 8, 3, 6],
      gap: [1, 8, 1, 1],
      padded: [1, 8, 13, 18],
      clip: [1, 8, 9, 12],
      [act]: [1, 8, 9, 12],
    },
  };
}

function shapeArithmetic(): Case {
  const b = new GraphBuilder({ name: 'shape-arithmetic', opset: 13 });
  const x = b.input('x', ['N', 4, 'H', 'W']);
  b.node('Shape', [x], {}, { outputs: ['s'] });
  b.node('Gather', ['s', b.int64('two', [2], [])], { axis: 0 }, { outputs: ['h'] });
  b.node('Gather', ['s', b.int64('three', [3], [1])], { axis: 0 }, { outputs: ['w'] });
  b.node('Unsqueeze', ['h', b.int64('axis0', [0])], {}, { outputs: ['hu'] });
  b.node('Mul', ['hu', 'w'], {}, { outputs: ['hw'] });
  b.node('Slice', ['s', b.int64('s0', [0]), b.int64('s2', [2])], {}, { outputs: ['nc'] });
  b.node('Concat', ['nc', 'hw'], { axis: 0 }, { outputs: ['target'] });
  b.node('Reshape', [x, 'target'], {}, { outputs: ['r'] });
  // Float arithmetic on a shape, cast back: halve H and W.
  b.node('Cast', ['s'], { to: DataType.FLOAT }, { outputs: ['sf'] });
  b.node('Div', ['sf', b.weight('halve', floats([1, 1, 2, 2]))], {}, { outputs: ['half'] });
  b.node('Cast', ['half'], { to: DataType.INT64 }, { outputs: ['sizes'] });
  b.node('Resize', [x, '', '', 'sizes'], { mode: 'nearest' }, { outputs: ['resized_sizes'] });
  b.node('Resize', [x, '', b.weight('scales', floats([1, 1, 1.5, 0.5]))], { mode: 'nearest' }, { outputs: ['resized_scales'] });
  b.node('Flatten', [x], { axis: 2 }, { outputs: ['flat'] });
  b.node('Transpose', ['r'], { perm: [0, 2, 1] }, { outputs: ['rt'] });
  b.node('Unsqueeze', ['r', b.int64('axes_u', [1, -1])], {}, { outputs: ['ru'] });
  b.node('Squeeze', ['ru', b.int64('axes_s', [-1])], {}, { outputs: ['rs'] });
  b.nodeOutputs('Split', ['r', b.int64('split', [1, 3])], { axis: 1 }, { outputs: ['split_a', 'split_b'] });
  b.node('ReduceMean', [x], { axes: [2, 3], keepdims: 1 }, { outputs: ['mean_hw'] });
  b.node('ReduceMean', [x], { axes: [1], keepdims: 0 }, { outputs: ['mean_c'] });
  b.node('ReduceSum', [x, b.int64('axes_sum', [-1])], { keepdims: 0 }, { outputs: ['sum_w'] });
  b.node('ReduceMax', [x], { axes: [0, 1], keepdims: 0 }, { outputs: ['max_nc'] });
  b.node('ArgMax', [x], { axis: 1, keepdims: 0 }, { outputs: ['argmax'] });
  b.node('Range', [b.int64('zero', [0], []), 'h', b.int64('step', [2], [])], {}, { outputs: ['range'] });
  b.node('ConstantOfShape', ['hu'], { value: encodeFloatTensor('v', [1.5], [1]) }, { outputs: ['filled'] });
  b.node('Expand', ['mean_hw', 's'], {}, { outputs: ['expanded'] });
  b.node('Tile', [x, b.int64('repeats', [1, 1, 2, 1])], {}, { outputs: ['tiled'] });
  b.node('Reshape', [x, b.int64('shape4', [2, 1, 4, -1])], {}, { outputs: ['r4'] });
  b.node('MatMul', ['r4', b.weight('mm', randn([3, 30, 5], 21))], {}, { outputs: ['batched_matmul'] });
  b.node('MatMul', ['r4', b.weight('vec', randn([30], 22))], {}, { outputs: ['matvec'] });
  b.node('Reshape', [x, b.int64('flat_shape', [1, -1])], {}, { outputs: ['row'] });
  b.node('Gemm', ['row', b.weight('fc', randn([16, 240], 23)), b.weight('fc_b', randn([16], 24))], { transB: 1 }, { outputs: ['gemm'] });
  b.node('Greater', [x, b.weight('zero_f', tensor(new Float32Array([0]), []))], {}, { outputs: ['positive'] });
  b.node('Where', ['positive', x, b.weight('fill10', randn([10], 25))], {}, { outputs: ['where'] });
  b.node('Equal', ['s', b.int64('expect_s', [1, 4, 6, 10])], {}, { outputs: ['same_shape'] });
  b.node('Pow', [x, b.weight('two_f', tensor(new Float32Array([2]), []))], {}, { outputs: ['squared'] });
  b.node('Sub', ['squared', 'mean_hw'], {}, { outputs: ['centered'] });
  b.node('Slice', [x, b.int64('st', [1, -3]), b.int64('en', [3, 1000]), b.int64('ax', [1, 3]), b.int64('sp', [1, 2])], {}, { outputs: ['sliced'] });
  b.node('Slice', [x, b.int64('st2', [-1]), b.int64('en2', [-1000]), b.int64('ax2', [2]), b.int64('sp2', [-2])], {}, { outputs: ['sliced_back'] });
  b.node('Gather', [x, b.int64('idx', [0, 2, 1, 1], [2, 2])], { axis: 2 }, { outputs: ['gathered'] });
  b.output('r');
  return {
    model: b.build(),
    inputs: { x: [1, 4, 6, 10] },
    expected: {
      s: [4], h: [], w: [1], hu: [1], target: [3], r: [1, 4, 60], resized_sizes: [1, 4, 3, 5], resized_scales: [1, 4, 9, 5],
      flat: [4, 60], rt: [1, 60, 4], ru: [1, 1, 4, 60, 1], rs: [1, 1, 4, 60], split_a: [1, 1, 60], split_b: [1, 3, 60],
      mean_hw: [1, 4, 1, 1], mean_c: [1, 6, 10], sum_w: [1, 4, 6], max_nc: [6, 10], argmax: [1, 6, 10], range: [3], filled: [6],
      expanded: [1, 4, 6, 10], tiled: [1, 4, 12, 10], r4: [2, 1, 4, 30], batched_matmul: [2, 3, 4, 5], matvec: [2, 1, 4],
      gemm: [1, 16], where: [1, 4, 6, 10], same_shape: [4], sliced: [1, 2, 6, 2], sliced_back: [1, 4, 3, 10], gathered: [1, 4, 2, 2, 10],
    },
    expectedValues: {
      s: [1, 4, 6, 10], h: [6], w: [10], hw: [60], target: [1, 4, 60], sizes: [1, 4, 3, 5], range: [0, 2, 4], same_shape: [1, 1, 1, 1],
    },
  };
}

/** Opset 9, as paddle2onnx writes it: Slice/Squeeze/Unsqueeze with attribute operands, Upsample. */
function opset9(): Case {
  const b = new GraphBuilder({ name: 'opset9', opset: 9 });
  const x = b.input('x', ['N', 3, 8, 'W']);
  b.node('Shape', [x], {}, { outputs: ['s'] });
  b.node('Cast', ['s'], { to: DataType.INT32 }, { outputs: ['s32'] });
  b.node('Slice', ['s32'], { axes: [0], starts: [0], ends: [1] }, { outputs: ['n32'] });
  b.node('Cast', ['n32'], { to: DataType.INT64 }, { outputs: ['n'] });
  b.node('Concat', ['n', b.int64('minus1', [-1])], { axis: 0 }, { outputs: ['target'] });
  b.node('Reshape', [x, 'target'], {}, { outputs: ['r'] });
  b.node('Upsample', [x, b.weight('scales', floats([1, 1, 2, 2]))], { mode: 'nearest' }, { outputs: ['up'] });
  b.node('Unsqueeze', [x], { axes: [0] }, { outputs: ['ux'] });
  b.node('Squeeze', ['ux'], { axes: [0] }, { outputs: ['sx'] });
  b.node('Slice', [x], { axes: [1, 3], starts: [1, 2], ends: [3, -2] }, { outputs: ['sliced'] });
  b.node('Flatten', [x], {}, { outputs: ['flat'] });
  b.node('Transpose', [x], {}, { outputs: ['reversed'] });
  b.output('r');
  return {
    model: b.build(),
    inputs: { x: [1, 3, 8, 16] },
    expected: { target: [2], r: [1, 384], up: [1, 3, 16, 32], sx: [1, 3, 8, 16], sliced: [1, 2, 8, 12], flat: [1, 384], reversed: [16, 8, 3, 1] },
    expectedValues: { n: [1], target: [1, -1] },
  };
}

/** Opset 11: Resize(X, roi, scales) as in PP-OCR det, Clip with min/max inputs, Pad with a pads input. */
function opset11(): Case {
  const b = new GraphBuilder({ name: 'opset11', opset: 11 });
  const x = b.input('x', [1, 2, 5, 7]);
  const roi = b.weight('roi', tensor(new Float32Array(0), [0]));
  b.node('Resize', [x, roi, b.weight('scales', floats([1, 1, 2, 2]))], { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' }, { outputs: ['up'] });
  b.node('Resize', [x, roi, b.weight('no_scales', tensor(new Float32Array(0), [0])), b.int64('sizes', [1, 2, 3, 4])], { mode: 'linear' }, { outputs: ['down'] });
  b.node('Clip', ['up', b.weight('lo', tensor(new Float32Array([0]), [])), b.weight('hi', tensor(new Float32Array([6]), []))], {}, { outputs: ['clip'] });
  b.node('Pad', [x, b.int64('pads', [0, 0, 1, 0, 0, 0, 0, 3])], { mode: 'reflect' }, { outputs: ['pad'] });
  b.node('Squeeze', ['up'], { axes: [0] }, { outputs: ['squeezed'] });
  b.node('ConvTranspose', [x, b.weight('wt', randn([2, 3, 2, 2], 31))], { strides: [2, 2], auto_pad: 'SAME_UPPER' }, { outputs: ['deconv_same'] });
  b.output('clip');
  return {
    model: b.build(),
    inputs: { x: [1, 2, 5, 7] },
    expected: { up: [1, 2, 10, 14], down: [1, 2, 3, 4], clip: [1, 2, 10, 14], pad: [1, 2, 6, 10], squeezed: [2, 10, 14], deconv_same: [1, 3, 10, 14] },
  };
}

const cases: Record<string, () => Case> = { convFamily, shapeArithmetic, opset9, opset11 };

describe('inferShapes: every op family agrees with onnxruntime', () => {
  for (const [name, make] of Object.entries(cases)) {
    it(name, async () => {
      const { model, inputs, expected, expectedValues } = make();
      const inference = inferShapes(model, { inputShapes: inputs });
      expect(inference.unresolved).toEqual([]);
      for (const [value, shape] of Object.entries(expected)) expect(inference.shapes.get(value), value).toEqual(shape);
      for (const [value, values] of Object.entries(expectedValues ?? {})) expect(inference.values.get(value), value).toEqual(values);
      const ort = await ortAllValues(model, inputs);
      const names = computedValues(model);
      expect(names.length).toBeGreaterThan(5);
      for (const value of names) expect(inference.shapes.get(value), value).toEqual(ort[value].dims);
      // Integer shape operands must carry onnxruntime's values too.
      for (const [value, known] of inference.values) {
        if (ort[value] && ort[value].type === 'int64') expect(known, value).toEqual(ort[value].values);
      }
    });
  }
});

describe('inferShapes: inputs', () => {
  function dynamicModel(dims: (number | string)[]) {
    const b = new GraphBuilder({ name: 'dynamic' });
    const x = b.input('x', dims);
    b.output(b.node('Conv', [x, b.weight('w', randn([4, 3, 3, 3], 1))], { pads: [1, 1, 1, 1] }, { outputs: ['y'] }));
    return b.build();
  }

  it('turns a dynamic batch (named, 0 or -1) into 1', () => {
    for (const batch of ['N', 0, -1]) {
      const inference = inferShapes(dynamicModel([batch, 3, 8, 10]));
      expect(inference.shapes.get('x')).toEqual([1, 3, 8, 10]);
      expect(inference.shapes.get('y')).toEqual([1, 4, 8, 10]);
    }
  });

  it('takes dynamic H and W from inputShapes, by name or by *', () => {
    const model = dynamicModel(['N', 3, 'H', 'W']);
    expect(inferShapes(model, { inputShapes: { x: [1, 3, 32, 48] } }).shapes.get('y')).toEqual([1, 4, 32, 48]);
    expect(inferShapes(model, { inputShapes: { '*': [1, 3, 16, 8] } }).shapes.get('y')).toEqual([1, 4, 16, 8]);
  });

  it('refuses a missing dynamic dimension, naming the input, its dims and the flag', () => {
    const model = dynamicModel(['N', 3, 'H', 'W']);
    expect(() => inferShapes(model)).toThrow(ShapeError);
    expect(() => inferShapes(model)).toThrow(/input 'x'.*\[N, 3, H, W\].*--input-shape 1,3,H,W/);
  });

  it('refuses a shape that contradicts a static dim, has the wrong rank or names no input', () => {
    const model = dynamicModel(['N', 3, 'H', 'W']);
    expect(() => inferShapes(model, { inputShapes: { x: [1, 4, 32, 32] } })).toThrow(/fixes axis 1 to 3/);
    expect(() => inferShapes(model, { inputShapes: { x: [1, 4, 32, 32] } })).toThrow(ShapeError);
    expect(() => inferShapes(model, { inputShapes: { x: [1, 3, 32] } })).toThrow(/rank 3/);
    expect(() => inferShapes(model, { inputShapes: { image: [1, 3, 32, 32] } })).toThrow(/'image'.*inputs are: x/);
    expect(() => inferShapes(model, { inputShapes: { x: [1, 3, 0, 32] } })).toThrow(ShapeError);
  });

  it("refuses '*' when the model has several inputs", () => {
    const b = new GraphBuilder({ name: 'two-inputs' });
    const x = b.input('x', [1, 3, 'H', 'W']);
    const y = b.input('y', [1, 3, 'H', 'W']);
    b.output(b.node('Add', [x, y]));
    expect(() => inferShapes(b.build(), { inputShapes: { '*': [1, 3, 8, 8] } })).toThrow(/ambiguous/);
    const shapes = inferShapes(b.build(), { inputShapes: { x: [1, 3, 8, 8], y: [1, 3, 8, 8] } });
    expect(shapes.unresolved).toEqual([]);
  });
});

describe('inferShapes: what it cannot resolve', () => {
  it('lists unsupported ops once per node, keeps their outputs unknown and goes on elsewhere', () => {
    const b = new GraphBuilder({ name: 'unsupported' });
    const x = b.input('x', [1, 3, 8, 8]);
    const custom = b.node('MyOp', [x], {}, { name: 'custom', domain: 'com.example' });
    const after = b.node('Relu', [custom], {}, { name: 'after_custom' });
    const einsum = b.node('Einsum', [x, x], { equation: 'nchw,nchw->nc' }, { name: 'einsum' });
    const nonzero = b.node('NonZero', [x], {}, { name: 'nonzero' });
    const other = b.node('Conv', [x, b.weight('w', randn([2, 3, 1, 1], 1))], {}, { name: 'conv' });
    b.output(after);
    b.output(einsum);
    b.output(nonzero);
    b.output(other);
    const inference = inferShapes(b.build());
    expect(inference.unresolved.map((entry) => entry.node)).toEqual(['custom', 'after_custom', 'einsum', 'nonzero']);
    expect(inference.unresolved[0]).toEqual({ node: 'custom', opType: 'MyOp', reason: "custom operator in domain 'com.example'" });
    expect(inference.unresolved[1].reason).toMatch(/has no inferred shape/);
    expect(inference.unresolved[2].reason).toMatch(/no shape rule for operator Einsum/);
    expect(inference.unresolved[3].reason).toMatch(/depends on the input data/);
    expect(inference.shapes.has(custom)).toBe(false);
    expect(inference.shapes.get(other)).toEqual([1, 2, 8, 8]);
  });

  it('lists a Reshape whose target comes from data, and a conv whose channels do not match', () => {
    const b = new GraphBuilder({ name: 'bad' });
    const x = b.input('x', [1, 3, 4, 4]);
    const target = b.node('Cast', [b.node('ReduceMax', [x], { keepdims: 0 })], { to: DataType.INT64 });
    b.node('Reshape', [x, b.node('Unsqueeze', [target, b.int64('a0', [0])])], {}, { name: 'reshape' });
    b.node('Conv', [x, b.weight('w', randn([2, 4, 1, 1], 1))], {}, { name: 'mismatch' });
    b.output(target);
    const inference = inferShapes(b.build());
    const byNode = new Map(inference.unresolved.map((entry) => [entry.node, entry.reason]));
    expect(byNode.get('reshape')).toMatch(/target shape .* computed at run time/);
    expect(byNode.get('mismatch')).toMatch(/3 channels .* expects 4/);
  });

  it('reads Constant nodes of every flavour', () => {
    const b = new GraphBuilder({ name: 'constants', opset: 13 });
    const x = b.input('x', [1, 12]);
    const ints = b.node('Constant', [], { value_ints: [3, 4] });
    const tensorConst = b.node('Constant', [], { value: encodeInt64Tensor('t', [1, -1]) });
    b.node('Reshape', [x, tensorConst], {}, { outputs: ['a'] });
    b.node('Reshape', [x, b.node('Concat', [b.int64('one', [1]), ints], { axis: 0 })], {}, { outputs: ['b'] });
    b.output('a');
    const inference = inferShapes(b.build());
    expect(inference.shapes.get('a')).toEqual([1, 12]);
    expect(inference.shapes.get('b')).toEqual([1, 3, 4]);
  });
});
