import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DeprunError } from '@deprune/errors';
import { decodeModel, encodeFloatTensor, encodeModel, graphOf, serializeModel, withGraph } from '@deprune/onnx';
import { loadModel } from '@deprune/onnx/node';
import { buildZooModel } from '@deprune/zoo';
import { fnv1a32, prune, validatePlanForModel, type PrunePlan } from '../src/index';

/**
 * Issue 16, item 5: a plan records its model file's hash and size, and a model loaded from a file
 * that is not that one is refused, however well its layers fit (two prunes of one network differ
 * only in their weights).
 */

const folder = mkdtempSync(join(tmpdir(), 'deprune-plan-hash-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

/** Prunes MobileNetV3-Small at `ratio` and writes the model as `name`; returns the file and its plan. */
function prunedFile(name: string, ratio: number): { file: string; plan: PrunePlan } {
  const { model, plan } = prune(buildZooModel('mobilenetv3-small', { inputSize: 64 }), { variant: 'deprune', ratio });
  const file = join(folder, name);
  writeFileSync(file, serializeModel(model));
  return { file, plan };
}

describe('validatePlanForModel and the model file hash', () => {
  const a = prunedFile('a.onnx', 0.3);
  const b = prunedFile('b.onnx', 0.6);

  it('accepts the model file the plan was written with', () => {
    expect(() => validatePlanForModel(a.plan, loadModel(a.file), { checkWeights: true })).not.toThrow();
    expect(a.plan.output.hash).toBe(fnv1a32(serializeModel(loadModel(a.file))));
  });

  it('refuses another file of the same network, naming the model and the plan file, before the weights check', () => {
    let caught: unknown;
    try {
      validatePlanForModel({ ...b.plan, output: { ...b.plan.output, file: 'b.onnx' } }, loadModel(a.file), { checkWeights: true, planFile: 'b.deprune.json' });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(DeprunError);
    expect((caught as DeprunError).file).toBe(a.file);
    expect((caught as Error).message).toMatch(/a\.onnx: is not the model the plan 'b\.deprune\.json' was written for \(the plan records fnv1a32:[0-9a-f]{8}, \d+ bytes, written as 'b\.onnx'; this file is fnv1a32:[0-9a-f]{8}, \d+ bytes\)/);
  });

  it('a file of another size is told by its size alone', () => {
    const bigger = join(folder, 'extra.onnx');
    // The same layers and weights plus one unused initializer: another model, another size.
    const proto = decodeModel(readFileSync(a.file));
    proto.graph!.initializer!.push(encodeFloatTensor('unused', new Float32Array(3), [3]));
    const bytes = encodeModel(proto);
    writeFileSync(bigger, bytes);
    expect(() => validatePlanForModel(a.plan, loadModel(bigger))).toThrow(new RegExp(`this file is ${bytes.length} bytes\\)`));
  });

  it('accepts a loaded model pruned with nothing to prune (the plan hashes its serialization, not the file)', () => {
    const file = join(folder, 'encoded-elsewhere.onnx');
    // Trailing unknown field: another encoder's bytes for the same graph.
    writeFileSync(file, Buffer.concat([serializeModel(buildZooModel('mobilenetv3-small', { inputSize: 64 })), Buffer.from([0xfa, 0x3e, 0x01, 0x00])]));
    const loaded = loadModel(file);
    const result = prune(loaded, { variant: 'deprune', ratio: 0 });
    expect(result.model).toBe(loaded);
    expect(() => validatePlanForModel(result.plan, result.model, { checkWeights: true })).not.toThrow();
  });

  it('checks no hash for models in memory, and a rewrite of a loaded model drops its file bytes', () => {
    const loaded = loadModel(b.file);
    expect(loaded.fileBytes?.length).toBe(b.plan.output.bytes);
    const rewritten = withGraph(loaded, { ...graphOf(loaded) });
    expect(rewritten.fileBytes).toBeUndefined();
    expect(() => validatePlanForModel(a.plan, rewritten)).not.toThrow();
  });
});
