import { describe, expect, it } from 'vitest';
import { DeprunError } from '@deprune/errors';
import { maskFromPlanEntry } from '@deprune/masks';
import { PLAN_JSON_SCHEMA, PlanFileError, parsePlan, serializePlan } from '../src/index';
import { sampleJson, samplePlan, type PlanJson } from './helpers';

const FILE = 'tiny.deprune.json';

/** The error parsePlan throws for `text`; fails the test when it throws none or another kind. */
function refusal(text: string): PlanFileError {
  let caught: unknown;
  try {
    parsePlan(text, FILE);
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(PlanFileError);
  return caught as PlanFileError;
}

/** Breaks a copy of the sample plan with `edit` and returns what parsePlan says about it. */
function refusalOf(edit: (plan: PlanJson) => void): PlanFileError {
  const plan = sampleJson();
  edit(plan);
  return refusal(JSON.stringify(plan));
}

describe('parsePlan: a well-formed plan', () => {
  it('round-trips serializePlan -> parsePlan to an equal plan', () => {
    const plan = samplePlan();
    expect(parsePlan(serializePlan(plan), FILE)).toEqual(plan);
  });

  it('gives entries whose masks rebuild as before', () => {
    const plan = samplePlan();
    const parsed = parsePlan(serializePlan(plan));
    for (const [index, entry] of parsed.layers.entries()) expect(maskFromPlanEntry(entry)).toEqual(maskFromPlanEntry(plan.layers[index]));
  });

  it('reads a channel plan with its output shapes', () => {
    const plan = sampleJson();
    plan.variant = 'channel';
    plan.physical = { removals: [{ dw: 'block.dw', channels: [2], touched: ['block.dw', 'block.pw'] }], shapes: { 'block.dw': { channels: 2, kernel: [3, 3] }, 'block.pw': { outChannels: 5, inChannels: 3 } } };
    expect(parsePlan(JSON.stringify(plan)).physical?.shapes['block.pw']).toEqual({ outChannels: 5, inChannels: 3 });
  });
});

describe('parsePlan: refusals name the file and the field', () => {
  it('text that is not JSON', () => {
    const error = refusal('{ "format": "deprune-plan", ');
    expect(error.message).toMatch(/^tiny\.deprune\.json: the plan is not valid JSON: /);
    expect(error.field).toBeUndefined();
    expect(error.code).toBe('BAD_CONFIG');
    expect(error).toBeInstanceOf(DeprunError);
    expect(error.exitCode).toBe(2);
  });

  it('null, an array, a number: not a JSON object', () => {
    expect(refusal('null').message).toMatch(/^tiny\.deprune\.json: not a deprune plan: the file holds null, not a JSON object/);
    expect(refusal('[]').message).toMatch(/the file holds an array, not a JSON object/);
    expect(refusal('7').message).toMatch(/the file holds a number, not a JSON object/);
  });

  it('another format', () => {
    const error = refusalOf((plan) => (plan.format = 'onnx'));
    expect(error.field).toBe('format');
    expect(error.message).toMatch(/not a deprune plan: format is 'onnx', not 'deprune-plan'/);
  });

  it('a wrong version, and one that is a huge array, in one short line', () => {
    const wrong = refusalOf((plan) => (plan.version = 2));
    expect(wrong.field).toBe('version');
    expect(wrong.message).toMatch(/deprune plan version 2 is not supported \(this build reads version 1\)/);
    const huge = refusalOf((plan) => (plan.version = Array.from({ length: 20_000 }, (_, index) => index)));
    expect(huge.message).toMatch(/version an array of 20000 is not supported/);
    expect(huge.message.length).toBeLessThan(300);
  });

  it('a missing field', () => {
    const error = refusalOf((plan) => delete plan.layers[1].keptIndices);
    expect(error.field).toBe('layers[1].keptIndices');
    expect(error.message).toBe(`${FILE}: layers[1].keptIndices is missing (the plan file is damaged; write it again with deprune prune)`);
    expect(refusalOf((plan) => delete plan.output.hash).field).toBe('output.hash');
    expect(refusalOf((plan) => delete plan.physical).field).toBe('physical');
  });

  it('a field of the wrong type', () => {
    expect(refusalOf((plan) => (plan.variant = 3)).message).toMatch(/: variant must be a non-empty string, got 3 /);
    expect(refusalOf((plan) => (plan.model.bytes = '1234')).message).toMatch(/: model\.bytes must be an integer >= 0, got '1234'/);
    expect(refusalOf((plan) => (plan.config = null)).field).toBe('config');
    expect(refusalOf((plan) => (plan.layers = {})).message).toMatch(/: layers must be an array of layer entries, got an object/);
    expect(refusalOf((plan) => (plan.layers[0] = 'block.dw')).field).toBe('layers[0]');
    expect(refusalOf((plan) => (plan.layers[1].kind = 'conv')).message).toMatch(/: layers\[1\]\.kind must be 'dw' or 'pw', got 'conv'/);
    expect(refusalOf((plan) => (plan.layers[0].granularity = 'rows')).field).toBe('layers[0].granularity');
    expect(refusalOf((plan) => (plan.layers[0].step = 0)).message).toMatch(/: layers\[0\]\.step must be null or an integer >= 1, got 0/);
    expect(refusalOf((plan) => (plan.layers[0].sparsity = 1.5)).field).toBe('layers[0].sparsity');
    expect(refusalOf((plan) => (plan.layers[0].keptIndices[2] = 4)).message).toMatch(/: layers\[0\]\.keptIndices\[2\] must be an array of indices, got 4/);
    expect(refusalOf((plan) => (plan.physical = [])).field).toBe('physical');
  });

  it('a negative or out-of-range kept index, and indices out of order', () => {
    const negative = refusalOf((plan) => (plan.layers[0].keptIndices[1][0] = -1));
    expect(negative.field).toBe('layers[0].keptIndices[1][0]');
    expect(negative.message).toMatch(/: layers\[0\]\.keptIndices\[1\]\[0\] = -1 is outside \[0, 8\]/);
    // A PW entry's indices are input columns: 4 of them.
    expect(refusalOf((plan) => (plan.layers[1].keptIndices[0][1] = 4)).message).toMatch(/: layers\[1\]\.keptIndices\[0\]\[1\] = 4 is outside \[0, 3\]/);
    expect(refusalOf((plan) => (plan.layers[0].keptIndices[0][0] = 0.5)).field).toBe('layers[0].keptIndices[0][0]');
    expect(refusalOf((plan) => (plan.layers[0].keptIndices[0] = [4, 0])).message).toMatch(/: layers\[0\]\.keptIndices\[0\] must be strictly ascending/);
    expect(refusalOf((plan) => (plan.layers[0].removedChannels = [3])).message).toMatch(/: layers\[0\]\.removedChannels\[0\] = 3 is outside \[0, 2\]/);
  });

  it('counts that disagree with the shape or the indices', () => {
    expect(refusalOf((plan) => plan.layers[0].keptIndices.pop()).message).toMatch(/: layers\[0\]\.keptIndices must be an array of 3 index lists \(one per channel\), got an array of 2/);
    expect(refusalOf((plan) => (plan.layers[1].kept[2] = 2)).message).toMatch(/: layers\[1\]\.kept\[2\] is 2 but keptIndices\[2\] lists 1/);
    expect(refusalOf((plan) => (plan.layers[1].tileRows = 6)).message).toMatch(/: layers\[1\]\.tileRows must be an integer in \[1, 5\], got 6/);
    expect(refusalOf((plan) => (plan.layers[0].tileRows = 1)).field).toBe('layers[0].tileRows');
  });

  it('an unknown layer shape', () => {
    const unknownKey = refusalOf((plan) => (plan.layers[0].shape = { channels: 3, kernel: [3, 3], depth: 2 }));
    expect(unknownKey.field).toBe('layers[0].shape.depth');
    expect(unknownKey.message).toMatch(/layers\[0\]\.shape\.depth is not a layer shape field/);
    expect(refusalOf((plan) => (plan.layers[1].shape = { channels: 5, kernel: [1, 1] })).field).toBe('layers[1].shape.channels');
    expect(refusalOf((plan) => (plan.layers[0].shape = { channels: 3 })).message).toMatch(/: layers\[0\]\.shape\.kernel is missing/);
    expect(refusalOf((plan) => (plan.layers[0].shape.kernel = [3])).field).toBe('layers[0].shape.kernel');
    expect(refusalOf((plan) => (plan.layers[1].shape.inChannels = 0)).message).toMatch(/: layers\[1\]\.shape\.inChannels must be an integer >= 1, got 0/);
    const mixed = refusalOf((plan) => (plan.physical = { removals: [], shapes: { x: { channels: 2, inChannels: 3 } } }));
    expect(mixed.field).toBe('physical.shapes["x"]');
    expect(mixed.message).toMatch(/is neither a DW shape \{ channels, kernel \} nor a PW shape/);
  });

  it('a field named like an Object property is not found on the prototype', () => {
    // JSON.parse makes __proto__ an own key; a plan without `physical` must not find Object's.
    const text = JSON.stringify(sampleJson()).replace('"physical":null', '"constructor":null');
    expect(refusal(text).field).toBe('physical');
  });

  it('refuses a plan without every field the JSON schema requires', () => {
    for (const key of PLAN_JSON_SCHEMA.required) expect(refusalOf((plan) => delete plan[key]).field).toBe(key);
    for (const key of PLAN_JSON_SCHEMA.properties.layers.items.required) expect(refusalOf((plan) => delete plan.layers[1][key]).field).toBe(`layers[1].${key}`);
    for (const key of PLAN_JSON_SCHEMA.properties.output.required) expect(refusalOf((plan) => delete plan.output[key]).field).toBe(`output.${key}`);
    for (const key of PLAN_JSON_SCHEMA.properties.model.required) expect(refusalOf((plan) => delete plan.model[key]).field).toBe(`model.${key}`);
  });

  it('without a file name, the message starts at the field', () => {
    expect(() => parsePlan(JSON.stringify({ ...sampleJson(), variant: '' }))).toThrow(/^variant must be a non-empty string, got '' /);
  });
});
