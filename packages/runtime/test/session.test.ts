/**
 * The session on small hand-built graphs: fusion (and where it must stop), fetching
 * intermediates, dynamic input shapes, input checks, compile-time refusal of unsupported
 * operators and of plans that do not fit, the operator registry, and memory release. Every
 * numeric check is against onnxruntime-node.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { DeprunError, ShapeError, UnsupportedError, UsageError } from '@deprune/errors';
import { disposeBackend, gpuKernelBackend } from '@deprune/gpu';
import { GraphBuilder, type OnnxModel } from '@deprune/onnx';
import { prune } from '@deprune/pipeline';
import { createRng, randomTensor, relativeL2Error, tensor, type Tensor } from '@deprune/tensor';
import { buildZooModel } from '@deprune/zoo';
import { compileGraph, createSession, DEVICE_RESIDENT_MODES, makeStep, registerOp, supportedOps, type HostTensor } from '../src/index';
import { ortRun, randomInput, withOutputs } from './helpers';

afterAll(async () => {
  await disposeBackend();
});

const rng = createRng(7);
const weight = (shape: number[], scale = 0.5): Tensor => randomTensor(shape, rng, { dtype: 'float32', scale });
const positive = (count: number): Tensor => tensor(Float32Array.from({ length: count }, () => 0.5 + rng.next()), [count]);

/** Conv -> BatchNormalization -> Mul (scalar) -> Add ([C, 1, 1]) -> Clip(0, 6): one fused step. */
function affineChain(opset = 13): OnnxModel {
  const b = new GraphBuilder({ name: 'affine-chain', opset });
  const x = b.input('x', [1, 4, 'H', 'W']);
  const conv = b.node('Conv', [x, b.weight('w', weight([6, 4, 3, 3])), b.weight('b', weight([6]))], { pads: [1, 1, 1, 1] }, { name: 'conv' });
  const bn = b.node('BatchNormalization', [conv, b.weight('gamma', weight([6])), b.weight('beta', weight([6])), b.weight('mean', weight([6])), b.weight('var', positive(6))], {}, { name: 'bn' });
  const mul = b.node('Mul', [bn, b.weight('a', tensor(Float32Array.of(1.5), []))], {}, { name: 'mul' });
  const add = b.node('Add', [mul, b.weight('shift', weight([6, 1, 1]))], {}, { name: 'add' });
  const clip = b.node('Clip', [add, b.weight('lo', tensor(Float32Array.of(0), [])), b.weight('hi', tensor(Float32Array.of(6), []))], {}, { name: 'relu6' });
  b.output(clip);
  return b.build();
}

async function expectMatchesOrt(model: OnnxModel, feeds: Record<string, HostTensor>, fetch: string[] = [], mode: 'cpu' | 'webasm' = 'webasm'): Promise<void> {
  const expected = await ortRun(withOutputs(model, fetch), feeds);
  const { outputs } = await (await createSession(model, { mode })).run(feeds, { fetch });
  for (const [name, reference] of Object.entries(expected)) {
    expect(outputs[name].shape, name).toEqual(reference.shape);
    expect(relativeL2Error(outputs[name].data, reference.data), name).toBeLessThan(1e-5);
  }
}

describe('fusion', () => {
  it('folds BN and constant affines into the conv and fuses the clip: one step, same output', async () => {
    const model = affineChain();
    const session = await createSession(model, { mode: 'cpu' });
    const report = session.compile({ x: [1, 4, 9, 7] });
    expect(report.steps).toHaveLength(1);
    expect(report.steps[0]).toMatchObject({ node: 'conv', kernel: 'conv2d', nodes: ['conv', 'bn', 'mul', 'add', 'relu6'] });
    await expectMatchesOrt(model, { x: randomInput([1, 4, 9, 7], 1) });
  });

  it('stops at a fetched value, which comes back exactly as the model defines it', async () => {
    const model = affineChain();
    const session = await createSession(model, { mode: 'cpu' });
    const report = session.compile({ x: [1, 4, 5, 5] }, ['bn_out']);
    // Past the fetched value the affines are element-wise kernels; the Add still takes the clip.
    expect(report.steps.map((step) => step.nodes)).toEqual([['conv', 'bn'], ['mul'], ['add', 'relu6']]);
    await expectMatchesOrt(model, { x: randomInput([1, 4, 5, 5], 2) }, ['bn_out', 'conv_out'], 'cpu');
  });

  it('runs the same graph unfused when asked (fuse: false)', async () => {
    const session = await createSession(affineChain(), { mode: 'cpu', fuse: false });
    expect(session.compile({ x: [1, 4, 5, 5] }).steps).toHaveLength(5);
  });

  it('fuses SiLU written as x * Sigmoid(x), and never fuses through a value read twice', async () => {
    const b = new GraphBuilder({ name: 'silu-residual' });
    const x = b.input('x', [1, 4, 6, 6]);
    const conv = b.node('Conv', [x, b.weight('w', weight([4, 1, 3, 3]))], { group: 4, pads: [1, 1, 1, 1] }, { name: 'dw' });
    const gate = b.node('Sigmoid', [conv], {}, { name: 'gate' });
    const silu = b.node('Mul', [conv, gate], {}, { name: 'silu' });
    const pw = b.node('Conv', [silu, b.weight('w2', weight([4, 4, 1, 1]))], {}, { name: 'pw' });
    const relu = b.node('Relu', [pw], {}, { name: 'relu' });
    const residual = b.node('Add', [pw, relu], {}, { name: 'residual' });
    b.output(residual);
    const model = b.build();
    const report = (await createSession(model, { mode: 'cpu' })).compile({ x: [1, 4, 6, 6] });
    expect(report.steps.map((step) => [step.kernel, step.nodes.join('+')])).toEqual([
      ['dwDense', 'dw+gate+silu'],
      ['pwDense', 'pw'],
      ['unary:relu', 'relu'],
      ['binary:add', 'residual'],
    ]);
    await expectMatchesOrt(model, { x: randomInput([1, 4, 6, 6], 3) });
  });
});

describe('written-out hard-swish', () => {
  /** Conv -> x * Clip(x + 3, 0, 6) / 6, the division after the Mul or right after the Clip (as a Mul by 1/6). */
  function hardSwishNet(divideAfterClip: boolean): OnnxModel {
    const b = new GraphBuilder({ name: 'hardswish' });
    const x = b.input('x', [1, 3, 5, 5]);
    const conv = b.node('Conv', [x, b.weight('w', weight([4, 3, 3, 3], 2))], { pads: [1, 1, 1, 1] }, { name: 'conv' });
    const shifted = b.node('Add', [conv, b.weight('three', tensor(Float32Array.of(3), []))], {}, { name: 'add3' });
    const clipped = b.node('Clip', [shifted, b.weight('zero', tensor(Float32Array.of(0), [])), b.weight('six', tensor(Float32Array.of(6), []))], {}, { name: 'clip' });
    if (divideAfterClip) {
      const scaled = b.node('Mul', [b.weight('sixth', tensor(Float32Array.of(1 / 6), [])), clipped], {}, { name: 'sixth' });
      b.output(b.node('Mul', [conv, scaled], {}, { name: 'gate' }));
    } else {
      const gated = b.node('Mul', [conv, clipped], {}, { name: 'gate' });
      b.output(b.node('Div', [gated, b.weight('six2', tensor(Float32Array.of(6), []))], {}, { name: 'div6' }));
    }
    return b.build();
  }

  it.each([[false], [true]])('fuses x * Clip(x + 3, 0, 6) / 6 into the conv (division after the clip: %s)', async (divideAfterClip) => {
    const model = hardSwishNet(divideAfterClip);
    const report = (await createSession(model, { mode: 'cpu' })).compile({ x: [1, 3, 5, 5] });
    expect(report.steps).toHaveLength(1);
    expect(report.steps[0].nodes).toEqual(divideAfterClip ? ['conv', 'add3', 'clip', 'sixth', 'gate'] : ['conv', 'add3', 'clip', 'gate', 'div6']);
    await expectMatchesOrt(model, { x: randomInput([1, 3, 5, 5], 12) });
  });

  /** Conv -> HardSwish -> Mul (scalar) -> Add (scalar) -> [Sub (scalar)], PP-LCNetV3's learnable affine after each activation. */
  function learnableAffineNet(options: { sub?: boolean; fetchMul?: boolean; perChannelAdd?: boolean } = {}): OnnxModel {
    const b = new GraphBuilder({ name: 'hardswish-affine', opset: 14 });
    const x = b.input('x', [1, 3, 'H', 'W']);
    const conv = b.node('Conv', [x, b.weight('w', weight([5, 3, 3, 3])), b.weight('b', weight([5]))], { pads: [1, 1, 1, 1] }, { name: 'conv' });
    const act = b.node('HardSwish', [conv], {}, { name: 'hswish' });
    const mul = b.node('Mul', [b.weight('scale', tensor(Float32Array.of(1.7), [1])), act], {}, { name: 'scale' });
    const add = b.node('Add', [mul, b.weight('bias', options.perChannelAdd ? weight([5, 1, 1]) : tensor(Float32Array.of(-0.3), [1]))], {}, { name: 'bias' });
    const last = options.sub ? b.node('Sub', [add, b.weight('minus', tensor(Float32Array.of(0.2), []))], {}, { name: 'minus' }) : add;
    b.output(last);
    return b.build();
  }

  it('folds a scalar Mul / Add / Sub after a HardSwish into the epilogue (scale * HardSwish + shift), and stops where it must', async () => {
    const feeds = { x: randomInput([1, 3, 6, 7], 13) };
    const steps = async (model: OnnxModel, fetch: string[] = []) => (await createSession(model, { mode: 'cpu' })).compile({ x: [1, 3, 6, 7] }, fetch).steps;
    const fused = learnableAffineNet({ sub: true });
    expect((await steps(fused)).map((step) => step.nodes)).toEqual([['conv', 'hswish', 'scale', 'bias', 'minus']]);
    await expectMatchesOrt(fused, feeds);
    // A fetched intermediate stays computed; a per-channel Add is not a scalar (the conv's own
    // affine takes those only before the activation).
    expect((await steps(fused, ['scale_out'])).map((step) => step.nodes)).toEqual([['conv', 'hswish', 'scale'], ['bias'], ['minus']]);
    await expectMatchesOrt(fused, feeds, ['scale_out']);
    const perChannel = learnableAffineNet({ perChannelAdd: true });
    expect((await steps(perChannel)).map((step) => step.nodes)).toEqual([['conv', 'hswish', 'scale'], ['bias']]);
    await expectMatchesOrt(perChannel, feeds);
    // The same on the wasm kernels (their own epilogue code for it).
    const expected = await ortRun(fused, feeds);
    const { outputs } = await (await createSession(fused, { mode: 'wasm', threads: 1 })).run(feeds);
    const [name] = Object.keys(expected);
    expect(relativeL2Error(outputs[name].data, expected[name].data)).toBeLessThan(1e-5);
  });
});

describe('inputs', () => {
  const model = affineChain();

  it('compiles once per input shape (dynamic H and W) and matches onnxruntime at each', async () => {
    const session = await createSession(model, { mode: 'webasm' });
    for (const [h, w] of [[8, 8], [5, 11], [1, 3]]) await expectMatchesOrt(model, { x: randomInput([1, 4, h, w], h * w) });
    expect(session.compile({ x: [1, 4, 8, 8] }).inputShapes).toEqual({ x: [1, 4, 8, 8] });
  });

  it('refuses a missing, unknown, non-float32 or wrongly shaped input by name', async () => {
    const session = await createSession(model, { mode: 'cpu' });
    const good = randomInput([1, 4, 5, 5], 4);
    await expect(session.run({})).rejects.toThrow(UsageError);
    await expect(session.run({})).rejects.toThrow(/input 'x' is missing/);
    await expect(session.run({ x: good, y: good })).rejects.toThrow(/'y' is not an input of the model/);
    const double = { data: Float64Array.from(good.data), shape: good.shape } as unknown as HostTensor;
    await expect(session.run({ x: double })).rejects.toMatchObject({ code: 'BAD_DTYPE' });
    await expect(session.run({ x: tensor(new Float32Array(10), [10]) })).rejects.toThrow(ShapeError);
    await expect(session.run({ x: { data: new Float32Array(3), shape: [1, 4, 5, 5] } as HostTensor })).rejects.toThrow(/has 3 values but shape/);
    await expect(session.run({ x: randomInput([1, 3, 5, 5], 5) })).rejects.toThrow(ShapeError);
  });

  it('returns graph outputs that are known before run time (folded shape arithmetic)', async () => {
    const b = new GraphBuilder({ name: 'shape-out' });
    const x = b.input('x', [1, 2, 'H', 'W']);
    const shape = b.node('Shape', [x], {}, { name: 'shape' });
    const flat = b.node('Flatten', [x], { axis: 1 }, { name: 'flat' });
    b.output(shape);
    b.output(flat);
    const { outputs } = await (await createSession(b.build(), { mode: 'cpu' })).run({ x: randomInput([1, 2, 3, 4], 6) });
    expect([...outputs.shape_out.data]).toEqual([1, 2, 3, 4]);
    expect(outputs.flat_out.shape).toEqual([1, 24]);
  });

  it('refuses to fetch a value the model does not have', async () => {
    const session = await createSession(model, { mode: 'cpu' });
    await expect(session.run({ x: randomInput([1, 4, 5, 5], 7) }, { fetch: ['nope'] })).rejects.toThrow(/no value named 'nope'/);
  });
});

describe('compile-time refusals', () => {
  it('lists every unsupported operator with its nodes in one error, before anything runs', async () => {
    const b = new GraphBuilder({ name: 'unsupported' });
    const x = b.input('x', [1, 4]);
    const a = b.node('Einsum', [x, x], { equation: 'ij,ij->ij' }, { name: 'einsum1' });
    const c = b.node('Einsum', [a, x], { equation: 'ij,ij->ij' }, { name: 'einsum2' });
    const d = b.node('Mystery', [c], {}, { name: 'mystery', domain: 'com.example' });
    b.output(b.node('Relu', [d], {}, { name: 'relu' }));
    const session = await createSession(b.build(), { mode: 'cpu' });
    const failure = await session.run({ x: randomInput([1, 4], 1) }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(UnsupportedError);
    expect((failure as Error).message).toMatch(/unsupported operators: Einsum \(einsum1, einsum2\); com\.example\.Mystery \(mystery\)/);
  });

  it('refuses a plan made for another model, naming the first layer that does not fit', async () => {
    const mnv2 = buildZooModel('mobilenetv2', { inputSize: 64 });
    const { plan } = prune(mnv2, { variant: 'deprune-b', ratio: 0.5 });
    const other = buildZooModel('efficientnet-b0', { inputSize: 64 });
    await expect(createSession(other, { mode: 'cpu', plan })).rejects.toThrow(ShapeError);
    await expect(createSession(other, { mode: 'cpu', plan })).rejects.toThrow(/node '[^']+'/);
  });

  it('refuses a plan whose pruned weights are not zero in the model (the unpruned file)', async () => {
    const mnv2 = buildZooModel('mobilenetv2', { inputSize: 64 });
    const { plan } = prune(mnv2, { variant: 'deprune', ratio: 0.5 });
    await expect(createSession(mnv2, { mode: 'cpu', plan })).rejects.toThrow(/is pruned by the plan but is/);
  });
});

describe('plans', () => {
  it('runs DEPrune layers on the sparse kernels, and the same weights dense with sparse: false, to the same output', async () => {
    const mnv2 = buildZooModel('mobilenetv2', { inputSize: 64 });
    const { model, plan } = prune(mnv2, { variant: 'deprune-bh', ratio: 0.6 });
    const feeds = { input: randomInput([1, 3, 64, 64], 8) };
    const sparse = await createSession(model, { mode: 'webasm', plan });
    const dense = await createSession(model, { mode: 'webasm', plan, sparse: false });
    const sparseReport = sparse.compile({ input: [1, 3, 64, 64] });
    expect(sparseReport.planLayers).toHaveLength(plan.layers.length);
    expect(new Set(sparseReport.planLayers.map((use) => `${use.kind}:${use.kernel}`))).toEqual(new Set(['dw:dwSparse', 'pw:pwSparse']));
    const denseReport = dense.compile({ input: [1, 3, 64, 64] });
    expect(new Set(denseReport.planLayers.map((use) => use.kernel))).toEqual(new Set(['dwDense', 'pwDense']));
    expect(denseReport.planLayers.every((use) => use.reason === 'the session runs planned layers dense (sparse: false)')).toBe(true);
    const a = (await sparse.run(feeds)).outputs.logits;
    const b = (await dense.run(feeds)).outputs.logits;
    expect(relativeL2Error(a.data, b.data)).toBeLessThan(1e-5);
  });
});

describe('dsconv chains', () => {
  it('runs each DW conv and the PW conv that alone reads it as one dsconv step, to the same output', async () => {
    const mnv2 = buildZooModel('mobilenetv2', { inputSize: 64 });
    const { model, plan } = prune(mnv2, { variant: 'deprune-bh', ratio: 0.6 });
    const feeds = { input: randomInput([1, 3, 64, 64], 9) };
    const chained = await createSession(model, { mode: 'webasm', plan, chain: true });
    const separate = await createSession(model, { mode: 'webasm', plan });
    const report = chained.compile({ input: [1, 3, 64, 64] });
    const steps = report.steps.filter((step) => step.kernel === 'dsconv');
    // MobileNetV2's 17 blocks: DW -> BN -> ReLU6 -> PW (project) -> BN, each one step.
    expect(steps).toHaveLength(17);
    const kindOf = new Map(plan.layers.map((entry) => [entry.name, entry.kind]));
    for (const step of steps) {
      // One DW and one PW layer of the plan per step: the DW conv (the step's node) and its PW conv.
      expect(step.nodes.map((node) => kindOf.get(node)).filter((kind) => kind !== undefined)).toEqual(['dw', 'pw']);
      expect(kindOf.get(step.node)).toBe('dw');
      expect(step.detail).toMatch(/^dwSparse \d+ of 9 taps .* -> pwSparse \d+ of \d+ columns .*, the intermediate kept on the device$/);
    }
    // Every plan layer is still reported with the sparse kernel it runs inside its step.
    expect(report.planLayers).toHaveLength(plan.layers.length);
    expect(new Set(report.planLayers.map((use) => `${use.kind}:${use.kernel}`))).toEqual(new Set(['dw:dwSparse', 'pw:pwSparse']));
    expect(separate.compile({ input: [1, 3, 64, 64] }).kernels.dsconv).toBeUndefined();
    const expected = await ortRun(model, feeds);
    const a = (await chained.run(feeds)).outputs.logits;
    const b = (await separate.run(feeds)).outputs.logits;
    expect(relativeL2Error(a.data, b.data)).toBeLessThan(1e-6);
    expect(relativeL2Error(a.data, expected.logits.data)).toBeLessThan(1e-4);
  });

  it('leaves a DW output that is fetched, read twice or read by a strided conv unchained', async () => {
    const b = new GraphBuilder({ name: 'chains', opset: 13 });
    const x = b.input('x', [1, 4, 7, 6]);
    const dw1 = b.node('Conv', [x, b.weight('w1', weight([4, 1, 3, 3]))], { group: 4, pads: [1, 1, 1, 1] }, { name: 'dw1' });
    const relu = b.node('Relu', [dw1], {}, { name: 'relu1' });
    const pw1 = b.node('Conv', [relu, b.weight('p1', weight([6, 4, 1, 1]))], {}, { name: 'pw1' });
    const dw2 = b.node('Conv', [pw1, b.weight('w2', weight([6, 1, 3, 3]))], { group: 6, pads: [1, 1, 1, 1] }, { name: 'dw2' });
    const pw2 = b.node('Conv', [dw2, b.weight('p2', weight([5, 6, 1, 1]))], { strides: [2, 2] }, { name: 'pw2' });
    const dw3 = b.node('Conv', [pw2, b.weight('w3', weight([5, 1, 3, 3]))], { group: 5, pads: [1, 1, 1, 1] }, { name: 'dw3' });
    const pw3 = b.node('Conv', [dw3, b.weight('p3', weight([3, 5, 1, 1]))], {}, { name: 'pw3' });
    const add = b.node('Add', [dw3, dw3], {}, { name: 'twice' });
    b.output(pw3);
    b.output(add);
    const model = b.build();
    const session = await createSession(model, { mode: 'cpu', chain: true });
    const kernelsOf = (fetch: string[]) => session.compile({ x: [1, 4, 7, 6] }, fetch).steps.map((step) => `${step.node}:${step.kernel}`);
    // dw1 + relu -> pw1 chains; dw2 -> pw2 does not (stride 2: not the direct PW kernel); dw3 is read twice.
    expect(kernelsOf([])).toEqual(['dw1:dsconv', 'dw2:dwDense', 'pw2:conv2d', 'dw3:dwDense', 'pw3:pwDense', 'twice:binary:add']);
    expect(kernelsOf(['relu1_out'])).toEqual(['dw1:dwDense', 'pw1:pwDense', 'dw2:dwDense', 'pw2:conv2d', 'dw3:dwDense', 'pw3:pwDense', 'twice:binary:add']);
    await expectMatchesOrt(model, { x: randomInput([1, 4, 7, 6], 10) }, ['relu1_out'], 'cpu');
    const feeds = { x: randomInput([1, 4, 7, 6], 11) };
    const expected = await ortRun(model, feeds);
    const { outputs } = await session.run(feeds);
    for (const name of ['pw3_out', 'twice_out']) expect(relativeL2Error(outputs[name].data, expected[name].data), name).toBeLessThan(1e-5);
  });

  it('chains by default only in the modes with memory of their own (wasm, GL, WebGPU)', async () => {
    expect(DEVICE_RESIDENT_MODES).toEqual(['wasm', 'headlessgl', 'webgl2', 'webgpu']);
    const model = buildZooModel('mobilenetv2', { inputSize: 32 });
    for (const mode of ['cpu', 'webasm'] as const) {
      expect((await createSession(model, { mode })).compile({ input: [1, 3, 32, 32] }).kernels.dsconv, mode).toBeUndefined();
    }
    expect((await createSession(model, { mode: 'wasm' })).compile({ input: [1, 3, 32, 32] }).kernels.dsconv).toBe(17);
  });
});

describe('registry and memory', () => {
  it('lists the operators it runs and lets a contributor add one', async () => {
    expect(supportedOps()).toEqual(expect.arrayContaining(['Conv', 'ConvTranspose', 'Resize', 'Softmax', 'MatMul', 'Gather', 'Slice']));
    expect(() => registerOp({ opTypes: ['Relu'], placement: 'host', compile: () => { throw new Error('unused'); } })).toThrow(/already registered/);
    registerOp({
      opTypes: ['Celu'],
      placement: 'host',
      compile(ctx) {
        const alpha = ctx.float('alpha', 1);
        return makeStep(ctx, {
          kernel: 'host:celu',
          placement: 'host',
          operands: [ctx.operand(0)],
          run: ([x]) => [tensor(x.data.map((v) => Math.max(0, v) + Math.min(0, alpha * (Math.exp(v / alpha) - 1))), x.shape)],
        });
      },
    });
    const b = new GraphBuilder({ name: 'celu' });
    b.output(b.node('Celu', [b.input('x', [2, 5])], { alpha: 0.7 }, { name: 'celu' }));
    await expectMatchesOrt(b.build(), { x: randomInput([2, 5], 9) });
  });

  it('releases every intermediate after its last reader, and nothing a caller can see', () => {
    const model = affineChain();
    const graph = compileGraph(model, { mode: 'cpu', backend: gpuKernelBackend('cpu'), inputShapes: { x: [1, 4, 5, 5] }, planEntries: new Map(), sparse: true, fuse: false, keep: new Set(['add_out']) });
    const released = graph.releases.flat();
    expect(new Set(released)).toEqual(new Set(['x', 'conv_out', 'bn_out', 'mul_out']));
    expect(released).toHaveLength(4);
    // Each value goes right after its last reader.
    expect(graph.releases[1]).toEqual(['conv_out']);
  });

  it('names the node when a kernel fails at run time', async () => {
    registerOp({
      opTypes: ['Shrink'],
      placement: 'host',
      compile: (ctx) => makeStep(ctx, { kernel: 'host:shrink', placement: 'host', operands: [ctx.operand(0)], run: () => { throw new Error('boom'); } }),
    });
    const b = new GraphBuilder({ name: 'fails' });
    b.output(b.node('Shrink', [b.input('x', [3])], {}, { name: 'shrinker' }));
    const failure = await (await createSession(b.build(), { mode: 'cpu' })).run({ x: randomInput([3], 1) }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(DeprunError);
    expect((failure as DeprunError).node).toBe('shrinker');
    expect((failure as Error).message).toMatch(/Shrink failed on host:shrink: boom/);
  });
});

describe('host fallbacks', () => {
  it('runs a broadcast the binary kernel cannot index on the host, unfused, with the same result', async () => {
    const b = new GraphBuilder({ name: 'five-d' });
    const x = b.input('x', [2, 3, 4, 5, 6]);
    const sum = b.node('Add', [x, b.weight('w', weight([1, 3, 1, 5, 1]))], {}, { name: 'add' });
    b.output(b.node('Relu', [sum], {}, { name: 'relu' }));
    const model = b.build();
    const report = (await createSession(model, { mode: 'cpu' })).compile({ x: [2, 3, 4, 5, 6] });
    expect(report.steps.map((step) => [step.kernel, step.placement])).toEqual([['host:add', 'host'], ['unary:relu', 'device']]);
    await expectMatchesOrt(model, { x: randomInput([2, 3, 4, 5, 6], 10) });
  });
});
