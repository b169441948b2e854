import { describe, expect, it } from 'vitest';
import { nodesOf } from '@deprune/onnx';
import { relativeL2Error } from '@deprune/tensor';
import { buildZooModel, trainableParameterCount, zooModels } from '../src/index';
import { batchNormChannels, meanAndStd, randomImage, runLogits } from './helpers';

const image = randomImage();

describe.each(zooModels.map((info) => [info.name, info] as const))('%s in onnxruntime-node', (name, info) => {
  const kept = buildZooModel(name, { seed: 7 });
  let keptLogits: Float32Array | undefined;

  it('BN kept: logits [1, 1000], finite, varied and of sane scale', async () => {
    const { data, dims } = await runLogits(kept, image);
    keptLogits = data;
    expect(dims).toEqual([1, 1000]);
    expect(data.every(Number.isFinite)).toBe(true);
    const { mean, std } = meanAndStd(data);
    // Seeded BN statistics keep every stage O(1); the 0.01-std Linear init sets the logit scale
    // (about 0.01 for MobileNetV3's two Linears, about 0.1 for the others).
    expect(std).toBeGreaterThan(1e-3);
    expect(std).toBeLessThan(10);
    expect(Math.abs(mean)).toBeLessThan(5 * std);
    expect(new Set(data).size).toBeGreaterThan(900);
  });

  it('BN folded: no BatchNormalization, one gamma fewer per BN channel, same logits', async () => {
    const folded = buildZooModel(name, { seed: 7, foldBatchNorm: true });
    expect(nodesOf(folded).some((node) => node.opType === 'BatchNormalization')).toBe(false);
    // The convs keep their torchvision names (and every one now has a bias).
    const convNames = (m: typeof kept) => nodesOf(m).filter((node) => node.opType === 'Conv').map((node) => node.name);
    expect(convNames(folded)).toEqual(convNames(kept));
    expect(nodesOf(folded).filter((node) => node.opType === 'Conv').every((node) => node.input!.length === 3)).toBe(true);
    expect(trainableParameterCount(folded)).toBe(info.publishedParams - batchNormChannels(kept));
    const { data, dims } = await runLogits(folded, image);
    expect(dims).toEqual([1, 1000]);
    keptLogits ??= (await runLogits(kept, image)).data;
    expect(relativeL2Error(data, keptLogits)).toBeLessThan(1e-4);
  });
});
