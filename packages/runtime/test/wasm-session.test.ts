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
