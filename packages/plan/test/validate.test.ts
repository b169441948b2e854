import { describe, expect, it } from 'vitest';
import { ShapeError } from '@deprune/errors';
import { listLayers, serializeModel } from '@deprune/onnx';
import { buildZooModel } from '@deprune/zoo';
import { PLAN_FORMAT, PLAN_VERSION, fnv1a32, layerInfoShape, validatePlanForModel, type PrunePlan } from '../src/index';

/**
 * The gate without the pruner: a plan that keeps every weight of every DW layer of a zoo model,
 * written by hand, passes; one that names a layer the model lacks is refused naming it. (The
 * pipeline's tests cover the gate against plans prune() writes.)
 */
describe('validatePlanForModel from @deprune/plan', () => {
  const model = buildZooModel('mobilenetv3-small', { inputSize: 64 });
  const dwLayers = listLayers(model).filter((info) => info.kind === 'dw');
  const bytes = serializeModel(model);
  const plan: PrunePlan = {
    format: PLAN_FORMAT,
    version: PLAN_VERSION,
    variant: 'dense',
    model: { source: model.source, hash: fnv1a32(bytes), bytes: bytes.length },
    output: { hash: fnv1a32(bytes), bytes: bytes.length },
    config: {},
    layers: dwLayers.map((info) => {
      const taps = info.kernel[0] * info.kernel[1];
      const all = Array.from({ length: taps }, (_, tap) => tap);
      return {
        name: info.name,
        kind: 'dw' as const,
        strategy: 'dcp',
        granularity: 'channel' as const,
        groupSize: 1,
        tileRows: null,
        step: null,
        shape: layerInfoShape(info),
        kept: Array.from({ length: info.outChannels }, () => taps),
        keptIndices: Array.from({ length: info.outChannels }, () => all),
        sparsity: 0,
      };
    }),
    physical: null,
  };

  it('accepts a plan that fits the model, weights included', () => {
    expect(dwLayers.length).toBeGreaterThan(0);
    expect(() => validatePlanForModel(plan, model, { checkWeights: true })).not.toThrow();
  });

  it('refuses a layer the model does not have, naming it', () => {
    const renamed = { ...plan, layers: [{ ...plan.layers[0], name: 'features.99' }] };
    expect(() => validatePlanForModel(renamed, model)).toThrow(ShapeError);
    expect(() => validatePlanForModel(renamed, model)).toThrow(/node 'features\.99': plan layer is not a Conv\/Gemm layer of this model/);
  });

  // From the CLI's fuzzing (cases 1:1075 and 7:4364), when plans reached the gate unparsed: a plan
  // object built in memory still can, so the gate keeps its own one-line refusals.
  it('refuses a kind that is a huge array and a null shape in one short line', () => {
    const hugeKind = { ...plan, layers: [{ ...plan.layers[0], kind: Array.from({ length: 20_000 }, () => 0) }] } as unknown as PrunePlan;
    expect(() => validatePlanForModel(hugeKind, model)).toThrow(/: plan says the kind an array of 20000, the model has a dw layer$/);
    const nullShape = { ...plan, layers: [{ ...plan.layers[0], shape: null }] } as unknown as PrunePlan;
    expect(() => validatePlanForModel(nullShape, model)).toThrow(/plan layer has no shape: it holds null/);
  });
});
