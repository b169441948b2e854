/**
 * The CLI's one reader of plan files (`run --plan`, `eval --plan`): the file is read as every input
 * file is (missing, unreadable, too large), its text goes through `@deprune/plan`'s `parsePlan`
 * (which names the field at fault), and the plan is checked against the model before a session or
 * an engine sees it, so that the message names the plan file and not only the model.
 */
import type { OnnxModel } from '@deprune/onnx';
import { parsePlan, validatePlanForModel, type PrunePlan } from '@deprune/plan';
import { readInputFile } from './files';

/** `<model>.deprune.json` next to a model file: where `deprune prune` wrote its plan. */
export function planPathNextTo(model: string): string {
  return model.replace(/\.onnx$/i, '') + '.deprune.json';
}

/** Reads and parses the plan file given with `--plan`; refuses anything that is not a well-formed plan. */
export function readPlanFile(path: string): PrunePlan {
  return parsePlan(readInputFile(path, 'plan file', '--plan').toString('utf8'), path);
}

/**
 * Refuses a plan that does not fit `model`: layers, shapes, pruned weights that are not zero, and
 * a model file other than the one the plan was written with (naming both files).
 */
export function checkPlanForModel(plan: PrunePlan, model: OnnxModel, planPath: string): void {
  validatePlanForModel(plan, model, { checkWeights: true, planFile: planPath });
}
