/**
 * The runtime on the wasm backend: `auto` picks it in Node, results stay in wasm memory between
 * kernels (a reshape's alias keeps its data alive), a session's memory does not grow over many
 * runs, and dispose() frees it. Parity with onnxruntime on real models is in models.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { UsageError } from '@deprune/errors';
import { GraphBuilder } from '@deprune/onnx';
import { prune } from '@deprune/pipeline';
import { createRng, randomTensor, relativeL2Error, toFloat32, type Tensor } from '@deprune/tensor';
import { buildZooModel } from '@deprune/zoo';
import { createSession, resolveBackendMode } from '../src/index';
import { ortRun, randomInput } from './helpers';

const weight = (shape: number[], seed: number) => toFloat32(randomTensor(shape, createRng(seed), { scale: 0.3 })) as Tensor<Float32Array>;

describe('the runtime on the wasm backend', () => {
  it("'auto' is wasm in Node", async () => {
    const resolved = await resolveBackendMode('auto');
    expect(resolved.mode).toBe('wasm');
    expect(resolved.reason).toMatch(/wasm/);
    await expect(resolveBackendMode('wasm2' as never)).rejects.toThrow(UsageError);
  });

  it('keeps a reshaped value alive until its last reader, and hands the caller its own copy', async () => {
    // conv -> unsqueeze -> squeeze (aliases of the conv's data) -> conv reads the alias after the
    // first conv's value was dropped: the block must still hold the data.
    const b = new GraphBuilder({ name: 'alias', opset: 11 });
    const x = b.input('x', [1, 4, 6, 6]);
    const first = b.node('Conv', [x, b.weight('w1', weight([8, 4, 1, 1], 1))], {}, { name: 'first' });
    const unsqueezed = b.node('Unsqueeze', [first], { axes: [4] }, { name: 'unsqueeze' });
    const squeezed = b.node('Squeeze', [unsqueezed], { axes: [4] }, { name: 'squeeze' });
    const second = b.node('Conv', [squeezed, b.weight('w2', weight([5, 8, 1, 1], 2))], {}, { name: 'second' });
    b.output(second);
    b.output(unsqueezed);
    const model = b.build();
    const feeds = { x: randomInput([1, 4, 6, 6], 3) };
    const expected = await ortRun(model, feeds);
    const session = await createSession(model, { mode: 'wasm' });
    const { outputs } = await session.run(feeds);
    for (const [name, reference] of Object.entries(expected)) expect(relativeL2Error(outputs[name].data, reference.data), name).toBeLessThan(1e-5);
    // Outputs are the caller's: plain arrays, not views of the session's memory.
    expect(outputs[second].data.buffer instanceof SharedArrayBuffer).toBe(false);
    expect(outputs[unsqueezed].data.buffer instanceof SharedArrayBuffer).toBe(false);
    expect(session.backendInfo.memory?.liveBytes).toBe(session.backendInfo.memory?.constantBytes);
    session.dispose();
  });

  it('refuses input shapes whose activations exceed maxActivationBytes before allocating, naming the shapes; smaller ones still run', async () => {
    const b = new GraphBuilder({ name: 'big-pad', opset: 11 });
    const x = b.input('x', [1, 2, 'H', 'W']);
    b.output(b.node('Pad', [x, b.int64('pads', [0, 0, 100, 100, 0, 0, 100, 100])], { mode: 'constant' }, { name: 'pad' }));
    const model = b.build();
    // 2 x 201 x 201 floats in, 2 x 401 x 401 out: about 1.5 MiB live at once.
    const session = await createSession(model, { mode: 'wasm', maxActivationBytes: 2 ** 20 });
    const live = () => session.backendInfo.memory?.liveBytes;
    const before = live();
    expect(() => session.compile({ x: [1, 2, 201, 201] })).toThrow(/at these input shapes \(x \[1, 2, 201, 201\]\) the model's activations need \d+ MiB, over the 1 MiB limit/);
    expect(live()).toBe(before);
    // Not cached as compiled: the same shapes are refused again, and small inputs run.
    await expect(session.run({ x: randomInput([1, 2, 201, 201], 1) })).rejects.toThrow(UsageError);
    const { outputs } = await session.run({ x: randomInput([1, 2, 3, 3], 2) });
    expect(Object.values(outputs)[0].shape).toEqual([1, 2, 203, 203]);
    session.dispose();
    await expect(createSession(model, { mode: 'wasm', maxActivationBytes: 0 })).rejects.toThrow(/maxActivationBytes must be a positive number/);
    await expect(createSession(model, { mode: 'wasm', maxActivationBytes: Number.NaN })).rejects.toThrow(UsageError);
  });

  it('gives the same outputs on 1 and 2 threads (pruned MobileNetV2, sparse kernels)', async () => {
    const model = buildZooModel('mobilenetv2', { seed: 2, inputSize: 64 });
    const { model: pruned, plan } = prune(model, { variant: 'deprune-bh', ratio: 0.5, inputShapes: { '*': [1, 3, 64, 64] } });
    const [one, two] = [await createSession(pruned, { mode: 'wasm', plan, threads: 1 }), await createSession(pruned, { mode: 'wasm', plan, threads: 2 })];
    expect([one.backendInfo.threads, two.backendInfo.threads]).toEqual([1, 2]);
    const feeds = { [one.inputNames[0]]: randomInput([1, 3, 64, 64], 5) };
    const [a, b] = [(await one.run(feeds)).outputs, (await two.run(feeds)).outputs];
    for (const name of Object.keys(a)) expect(relativeL2Error(b[name].data, a[name].data)).toBeLessThan(1e-6);
    one.dispose();
    two.dispose();
    await expect(createSession(model, { mode: 'wasm', threads: 0 })).rejects.toThrow(UsageError);
  });

  it('does not grow over 1,000 runs, and dispose() frees the session', async () => {
    const model = buildZooModel('mobilenetv2', { seed: 1, inputSize: 32 });
    const session = await createSession(model, { mode: 'wasm', threads: 2 });
    const feeds = { [session.inputNames[0]]: randomInput([1, 3, 32, 32], 4) };
    for (let run = 0; run < 5; run++) await session.run(feeds);
    const settled = session.backendInfo.memory!;
    for (let run = 0; run < 1000; run++) await session.run(feeds);
    const after = session.backendInfo.memory!;
    expect(after.memoryBytes).toBe(settled.memoryBytes);
    expect(after.liveBytes).toBe(settled.liveBytes);
    // Between runs only the packed weights stay.
    expect(after.liveBytes).toBe(after.constantBytes);
    session.dispose();
    session.dispose();
    await expect(session.run(feeds)).rejects.toThrow(/disposed/);
  }, 120_000);
});

describe('wasm session memory', () => {
  it('reports the largest set of live activations at compile time', async () => {
    // x [1,4,6,6] -> conv [1,8,6,6] -> conv [1,5,6,6]: x dies after the first conv, so the most alive
    // at once is the first conv's output with the second's (8 + 5 planes), not x with the first (4 + 8).
    const b = new GraphBuilder({ name: 'live' });
    const x = b.input('x', [1, 4, 6, 6]);
    const first = b.node('Conv', [x, b.weight('w1', weight([8, 4, 1, 1], 1))], {}, { name: 'first' });
    b.output(b.node('Conv', [first, b.weight('w2', weight([5, 8, 1, 1], 2))], {}, { name: 'second' }));
    const session = await createSession(b.build(), { mode: 'wasm', threads: 1 });
    expect(session.compile({ x: [1, 4, 6, 6] }).activationBytes).toBe(4 * 36 * (8 + 5));
    session.dispose();
  });

  it('peaks within 1.5x of the packed weights plus the largest set of live activations', async () => {
    for (const name of ['mobilenetv2', 'efficientnet-b0'] as const) {
      const model = buildZooModel(name, { seed: 1, inputSize: 224 });
      const shape = [1, 3, 224, 224];
      const session = await createSession(model, { mode: 'wasm', threads: 1 });
      const input = session.inputNames[0];
      // The first run packs the weights layer by layer; the second is a steady run with all of them resident.
      for (let run = 0; run < 2; run++) await session.run({ [input]: randomInput(shape, 6) });
      const memory = session.backendInfo.memory!;
      // The largest set of values alive at once (the compile report walks the steps and their release points).
      const largest = session.compile({ [input]: shape }).activationBytes;
      const bound = 1.5 * (memory.constantBytes + largest);
      console.log(`${name}: peak ${(memory.peakBytes / 2 ** 20).toFixed(1)} MiB in use, ${(memory.memoryBytes / 2 ** 20).toFixed(1)} MiB reserved; weights ${(memory.constantBytes / 2 ** 20).toFixed(1)} MiB + largest live set ${(largest / 2 ** 20).toFixed(1)} MiB`);
      expect(memory.peakBytes).toBeLessThanOrEqual(bound);
      // What the process holds: the whole WebAssembly memory (the allocator grows it by an eighth at a time).
      expect(memory.memoryBytes).toBeLessThanOrEqual(bound);
      session.dispose();
    }
  }, 60_000);
});
