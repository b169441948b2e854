/**
 * Models exported by other frameworks (openWakeWord's, shipped on npm): a tf2onnx speech
 * embedding (Conv, LeakyRelu, Max, MaxPool, Reshape), a PyTorch mel-spectrogram front end (1-D
 * convs as STFT, MatMul, Pow, Log, ReduceMax, Clip) and PyTorch wake-word heads (Flatten, Gemm,
 * LayerNorm written out as ReduceMean / Sub / Pow / Sqrt / Div). Dense parity with onnxruntime in
 * wasm, cpu and webasm; a head with an `If` node is refused at compile time, naming the node.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { UnsupportedError } from '@deprune/errors';
import { disposeBackend } from '@deprune/gpu';
import { indexGraph } from '@deprune/onnx';
import { relativeL2Error } from '@deprune/tensor';
import { createSession } from '../src/index';
import { MODEL_TOLERANCE, ortRun, randomInput, wakeWordModel } from './helpers';

afterAll(async () => {
  await disposeBackend();
});

const CASES = [
  { file: 'embedding_model.onnx', exporter: 'tf2onnx', input: [1, 76, 32, 1], scale: 1 },
  { file: 'melspectrogram.onnx', exporter: 'PyTorch', input: [1, 1280], scale: 0.3 },
  { file: 'hey_mycroft_v0.1.onnx', exporter: 'PyTorch', input: [1, 16, 96], scale: 1 },
  { file: 'alexa_v0.1.onnx', exporter: 'PyTorch', input: [1, 16, 96], scale: 1 },
];

describe.each(CASES)('$file ($exporter)', ({ file, input, scale }) => {
  it.each([['wasm'], ['cpu'], ['webasm']] as const)('matches onnxruntime in %s mode', async (mode) => {
    const model = wakeWordModel(file);
    const feeds = { [indexGraph(model).inputs[0]]: randomInput(input, 21, scale) };
    const expected = await ortRun(model, feeds);
    const { outputs } = await (await createSession(model, { mode })).run(feeds);
    for (const [name, reference] of Object.entries(expected)) {
      expect(outputs[name].shape).toEqual(reference.shape);
      expect(relativeL2Error(outputs[name].data, reference.data)).toBeLessThan(MODEL_TOLERANCE);
    }
  });
});

it('refuses a model with control flow at compile time, naming the If node', async () => {
  const model = wakeWordModel('hey_jarvis_v0.1.onnx');
  const session = await createSession(model, { mode: 'cpu' });
  const feeds = { [indexGraph(model).inputs[0]]: randomInput([1, 16, 96], 1) };
  const failure = await session.run(feeds).then(() => undefined, (error: unknown) => error);
  expect(failure).toBeInstanceOf(UnsupportedError);
  expect(String((failure as Error).message)).toMatch(/unsupported operators: If \(/);
});
