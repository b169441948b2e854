import { buildDwPlan, buildPwPlan, planEntryToJson, type DwLayer, type PwLayer } from '@deprune/masks';
import { PLAN_FORMAT, PLAN_VERSION, type PrunePlan } from '../src/index';

const dwLayer: DwLayer = { kind: 'dw', name: 'block.dw', channels: 3, kernel: [3, 3], weights: new Float64Array(27).fill(1) };
const pwLayer: PwLayer = { kind: 'pw', name: 'block.pw', outChannels: 5, inChannels: 4, weights: new Float64Array(20).fill(1) };

/**
 * A small well-formed plan: one DW entry (3 channels, 3x3) and one PW entry (5x4 in tiles of 2
 * rows, so 3 tiles, the last one short). Built through masks' plan builders, as prune() does.
 */
export function samplePlan(): PrunePlan {
  const dw = buildDwPlan(dwLayer, [[0, 4], [1, 4], [4, 8]], { strategy: 'dcp', granularity: 'channel', groupSize: 1, step: 2 });
  const pw = buildPwPlan(pwLayer, [[0, 3], [1, 2], [2]], { strategy: 'pcp', granularity: 'tile', tileRows: 2 });
  return {
    format: PLAN_FORMAT,
    version: PLAN_VERSION,
    variant: 'deprune-bh',
    model: { source: 'tiny.onnx', hash: 'fnv1a32:0123abcd', bytes: 1234 },
    output: { hash: 'fnv1a32:89abcdef', bytes: 1200, file: 'tiny-pruned.onnx' },
    config: { variant: 'deprune-bh', ratio: 0.5 },
    layers: [planEntryToJson(dw), planEntryToJson(pw)],
    physical: null,
  };
}

/** A plan as loose JSON data: the tests break it field by field, in ways no plan type allows. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type PlanJson = Record<string, any>;

/** The sample plan as plain JSON data, to be broken by a test and handed to parsePlan as text. */
export function sampleJson(): PlanJson {
  return JSON.parse(JSON.stringify(samplePlan())) as PlanJson;
}
