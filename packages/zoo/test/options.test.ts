import { describe, expect, it } from 'vitest';
import { DeprunError, UsageError } from '@deprune/errors';
import { graphOf, serializeModel } from '@deprune/onnx';
import { buildZooModel, trainableParameterCount, zooModels, type ZooModelName } from '../src/index';
import { randomImage, runLogits } from './helpers';

function catchError(run: () => unknown): DeprunError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(DeprunError);
    return error as DeprunError;
  }
  throw new Error('expected an error');
}

describe('registry', () => {
  it('lists the four models with their published parameter counts', () => {
    expect(zooModels.map((info) => info.name)).toEqual(['mobilenetv2', 'mobilenetv3-small', 'mobilenetv3-large', 'efficientnet-b0']);
    expect(zooModels.map((info) => info.publishedParams)).toEqual([3_504_872, 2_542_856, 5_483_032, 5_288_548]);
    for (const info of zooModels) expect(info.reference).toMatch(/^torchvision /);
  });

  it('refuses an unknown model with a UsageError that lists the valid names', () => {
    const error = catchError(() => buildZooModel('resnet50' as ZooModelName));
    expect(error).toBeInstanceOf(UsageError);
    expect(error.code).toBe('BAD_USAGE');
    expect(error.message).toContain("'resnet50'");
    for (const info of zooModels) expect(error.message).toContain(info.name);
    // Object prototype keys are not model names either.
    expect(catchError(() => buildZooModel('toString' as ZooModelName))).toBeInstanceOf(UsageError);
  });

  it.each([
    [{ seed: 1.5 }, /seed/],
    [{ numClasses: 0 }, /numClasses/],
    [{ inputSize: -3 }, /inputSize/],
    [{ inputSize: 'big' as unknown as number }, /inputSize/],
  ])('refuses bad options %o', (options, pattern) => {
    const error = catchError(() => buildZooModel('mobilenetv3-small', options));
    expect(error).toBeInstanceOf(UsageError);
    expect(error.message).toMatch(pattern);
  });
});

describe('determinism', () => {
  it.each(zooModels.map((info) => info.name))('%s: same seed gives identical bytes, another seed differs', (name) => {
    const first = serializeModel(buildZooModel(name, { seed: 3 }));
    const again = serializeModel(buildZooModel(name, { seed: 3 }));
    expect(Buffer.from(again).equals(Buffer.from(first))).toBe(true);
    const other = serializeModel(buildZooModel(name, { seed: 4 }));
    expect(other.length).toBe(first.length);
    expect(Buffer.from(other).equals(Buffer.from(first))).toBe(false);
  });

  it('folding is deterministic too', () => {
    const first = serializeModel(buildZooModel('mobilenetv3-small', { seed: 9, foldBatchNorm: true }));
    const again = serializeModel(buildZooModel('mobilenetv3-small', { seed: 9, foldBatchNorm: true }));
    expect(Buffer.from(again).equals(Buffer.from(first))).toBe(true);
  });

  it('defaults to seed 0', () => {
    const byDefault = serializeModel(buildZooModel('mobilenetv3-small'));
    expect(Buffer.from(serializeModel(buildZooModel('mobilenetv3-small', { seed: 0 }))).equals(Buffer.from(byDefault))).toBe(true);
  });
});

describe('options', () => {
  it('numClasses resizes only the last Linear', async () => {
    const model = buildZooModel('mobilenetv3-small', { numClasses: 10 });
    // published - (1000 - 10) * (1024 weights + 1 bias)
    expect(trainableParameterCount(model)).toBe(2_542_856 - 990 * 1025);
    const { dims } = await runLogits(model, randomImage());
    expect(dims).toEqual([1, 10]);
  });

  it("inputSize 'dynamic' declares H and W as dim_params and runs at other sizes", async () => {
    const model = buildZooModel('mobilenetv3-small', { inputSize: 'dynamic' });
    const dims = graphOf(model).input![0].type!.tensorType!.shape!.dim!.map((dim) => dim.dimParam || Number(dim.dimValue));
    expect(dims).toEqual(['N', 3, 'H', 'W']);
    const { data, dims: outDims } = await runLogits(model, randomImage(160, 5, 2), 160);
    expect(outDims).toEqual([2, 1000]);
    expect(data.every(Number.isFinite)).toBe(true);
  });

  it('a static inputSize other than 224 is declared as such', () => {
    const model = buildZooModel('efficientnet-b0', { inputSize: 256 });
    const dims = graphOf(model).input![0].type!.tensorType!.shape!.dim!.map((dim) => Number(dim.dimValue));
    expect(dims.slice(1)).toEqual([3, 256, 256]);
  });
});
