/**
 * Model-level parity: the runtime against onnxruntime-node on real models, dense and pruned by
 * every variant, in the Node modes (wasm, cpu, webasm). The pruned model files are the ones `prune()`
 * writes (zeros in place, or physically smaller for `channel`); the runtime gets the plan too, so
 * DEPrune layers run on the sparse kernels. Relative L2 error of every output < 1e-3.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { disposeBackend } from '@deprune/gpu';
import { indexGraph, type OnnxModel } from '@deprune/onnx';
import { prune, type PrunePlan, type PruneVariant } from '@deprune/pipeline';
import { relativeL2Error, tensor } from '@deprune/tensor';
import { buildZooModel, type ZooModelName } from '@deprune/zoo';
import { createSession, type BackendMode } from '../src/index';
import { MODEL_TOLERANCE, WASM_MODEL_TOLERANCE, ortRun, paddleModel, randomInput, withOutputs } from './helpers';

const NODE_MODES: readonly BackendMode[] = ['wasm', 'cpu', 'webasm'];
const VARIANTS: readonly PruneVariant[] = ['unstructured', 'channel', 'deprune', 'deprune-b', 'deprune-bh'];

interface ModelCase {
  name: string;
  model: () => OnnxModel;
  input: number[];
  /** Pruning variants to check besides dense. */
  variants: readonly PruneVariant[];
  modes: readonly BackendMode[];
  /**
   * An output computed as Sigmoid(`logits`): onnxruntime's CPU sigmoid is a fast approximation
   * whose error far in the negative tail (1.2e-7 where the value is 2.5e-8) dominates a relative
   * L2 over an all-background detection map. So the logits are compared with onnxruntime, and the
   * output with the exact sigmoid of onnxruntime's logits.
   */
  sigmoidOf?: { output: string; logits: string };
}

const zoo = (name: ZooModelName, foldBatchNorm = false, inputSize = 96) => () => buildZooModel(name, { seed: 3, foldBatchNorm, inputSize });

const CASES: ModelCase[] = [
  { name: 'zoo mobilenetv2 (96x96)', model: zoo('mobilenetv2'), input: [1, 3, 96, 96], variants: VARIANTS, modes: NODE_MODES },
  { name: 'zoo efficientnet-b0 (96x96)', model: zoo('efficientnet-b0'), input: [1, 3, 96, 96], variants: VARIANTS, modes: NODE_MODES },
  { name: 'zoo efficientnet-b0 folded (96x96)', model: zoo('efficientnet-b0', true), input: [1, 3, 96, 96], variants: ['deprune-bh'], modes: ['wasm', 'webasm'] },
  { name: 'zoo mobilenetv3-small (96x96)', model: zoo('mobilenetv3-small'), input: [1, 3, 96, 96], variants: ['channel', 'deprune-bh'], modes: NODE_MODES },
  { name: 'zoo mobilenetv3-large (96x96)', model: zoo('mobilenetv3-large'), input: [1, 3, 96, 96], variants: ['channel', 'deprune-bh'], modes: ['wasm', 'webasm'] },
  { name: 'ppocr cls 1x3x48x192', model: () => paddleModel('ch_ppocr_mobile_v2.0_cls_infer.onnx'), input: [1, 3, 48, 192], variants: VARIANTS, modes: NODE_MODES },
  { name: 'ppocr rec 1x3x48x160', model: () => paddleModel('ch_PP-OCRv4_rec_infer.onnx'), input: [1, 3, 48, 160], variants: ['channel', 'deprune', 'deprune-bh'], modes: NODE_MODES },
  {
    name: 'ppocr det 1x3x96x128',
    model: () => paddleModel('ch_PP-OCRv4_det_infer.onnx'),
    input: [1, 3, 96, 128],
    variants: ['channel', 'deprune-bh'],
    modes: NODE_MODES,
    sigmoidOf: { output: 'sigmoid_0.tmp_0', logits: 'p2o.Add.281' },
  },
];

afterAll(async () => {
  await disposeBackend();
});

async function expectParity(testCase: ModelCase, model: OnnxModel, plan: PrunePlan | null, seed: number): Promise<void> {
  const { input, modes, sigmoidOf } = testCase;
  const inputName = indexGraph(model).inputs[0];
  const feeds = { [inputName]: randomInput(input, seed) };
  const fetch = sigmoidOf ? [sigmoidOf.logits] : [];
  const expected = await ortRun(withOutputs(model, fetch), feeds);
  if (sigmoidOf) expected[sigmoidOf.output] = tensor(Float32Array.from(expected[sigmoidOf.logits].data, (v) => 1 / (1 + Math.exp(-v))), expected[sigmoidOf.output].shape);
  for (const mode of modes) {
    const session = await createSession(model, { mode, plan });
    const { outputs } = await session.run(feeds, { fetch });
    for (const [name, reference] of Object.entries(expected)) {
      expect(outputs[name].shape, `${mode} ${name} shape`).toEqual(reference.shape);
      const error = relativeL2Error(outputs[name].data, reference.data);
      // The wasm backend accumulates in float32 like onnxruntime and is held to the tighter bound.
      expect(error, `${mode} output ${name}: relative L2 error ${error}`).toBeLessThan(mode === 'wasm' ? WASM_MODEL_TOLERANCE : MODEL_TOLERANCE);
    }
    if (plan !== null && plan.physical === null && plan.variant.startsWith('deprune')) {
      const report = session.compile({ [inputName]: input });
      const kernels = new Set(report.planLayers.map((use) => use.kernel));
      expect([...kernels].sort()).toEqual(expect.arrayContaining(['dwSparse']));
      expect(report.planLayers.filter((use) => use.reason !== undefined && !use.reason.includes('stride'))).toEqual([]);
    }
  }
}

describe.each(CASES)('$name', (testCase) => {
  let model: OnnxModel;
  const load = () => (model ??= testCase.model());

  it('dense: matches onnxruntime', async () => {
    await expectParity(testCase, load(), null, 11);
  });

  it.each(testCase.variants.map((variant) => [variant]))('%s at ratio 0.5: matches onnxruntime on the pruned model', async (variant) => {
    const { model: pruned, plan } = prune(load(), { variant, ratio: 0.5, inputShapes: { '*': testCase.input } });
    await expectParity(testCase, pruned, plan, 12);
  });
});
