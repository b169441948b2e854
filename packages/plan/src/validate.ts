/**
 * The runtime's gate: `validatePlanForModel` refuses a plan whose layers or shapes do not match
 * the model it is about to run, or whose model file is not the one the plan was written for. It
 * lives beside the plan contract (not in the runtime) so that `@deprune/pipeline` can keep
 * exporting it without depending on the runtime and its kernel backends.
 */
import { DeprunError, ShapeError } from '@deprune/errors';
import { indexGraph, listLayers, readFloatConstant, serializeModel, type LayerInfo, type OnnxModel } from '@deprune/onnx';
import { maskFromPlanEntry, type LayerPlanShape } from '@deprune/masks';
import { PLAN_FORMAT, PLAN_VERSION, describePlanValue, fnv1a32, type PrunePlan } from './plan';

/** The shape a layer has in the model, in plan-entry terms. */
export function layerInfoShape(info: LayerInfo): LayerPlanShape {
  return info.kind === 'dw'
    ? { channels: info.outChannels, kernel: [info.kernel[0], info.kernel[1]] }
    : { outChannels: info.outChannels, inChannels: info.inChannels };
}

function sameShape(a: LayerPlanShape, b: LayerPlanShape): boolean {
  return (
    a.channels === b.channels &&
    a.outChannels === b.outChannels &&
    a.inChannels === b.inChannels &&
    (a.kernel === undefined) === (b.kernel === undefined) &&
    (a.kernel === undefined || (a.kernel[0] === b.kernel![0] && a.kernel[1] === b.kernel![1]))
  );
}

function formatShape(shape: LayerPlanShape): string {
  if (shape.channels !== undefined) return `DW ${shape.channels} channels ${shape.kernel?.join('x') ?? '?'}`;
  return `PW ${shape.outChannels ?? '?'}x${shape.inChannels ?? '?'}`;
}

export interface ValidatePlanOptions {
  /**
   * Also read the model's weights and check that every weight the plan prunes is exactly 0
   * (masking variants). Default false: shapes and names only.
   */
  checkWeights?: boolean;
  /** The plan's file, named in the message when the model file is not the one the plan records. */
  planFile?: string;
}

/**
 * Refuses a model file that is not the one the plan was written with: the plan records the hash
 * and size of its model's bytes, and a model loaded from a file (`loadModel`) keeps the bytes it
 * was read from. Two prunes to the same output with --force, or a crash between writing the plan
 * and the model, can leave a plan beside another run's model; shapes and names alone may not tell.
 * Models built or rewritten in memory carry no file bytes and are not checked.
 */
function checkModelFileHash(plan: PrunePlan, model: OnnxModel, planFile: string | undefined): void {
  const recorded = plan.output;
  const bytes = model.fileBytes;
  if (bytes === undefined || recorded === null || typeof recorded !== 'object' || typeof recorded.hash !== 'string') return;
  // The size first: it settles most mismatches without hashing megabytes.
  const hash = bytes.length === recorded.bytes ? fnv1a32(bytes) : undefined;
  if (hash === recorded.hash) return;
  // prune() hashes the model as it serializes it; when it changed nothing (ratio 0) the "pruned"
  // model is the loaded one, whose file another writer encoded differently. Same graph, same plan.
  if (fnv1a32(serializeModel(model)) === recorded.hash) return;
  const written = typeof recorded.file === 'string' ? `, written as ${describePlanValue(recorded.file)}` : '';
  const actual = hash === undefined ? `${bytes.length} bytes` : `${hash}, ${bytes.length} bytes`;
  throw new DeprunError(
    'BAD_CONFIG',
    `is not the model the plan ${planFile === undefined ? '' : `'${planFile}' `}was written for (the plan records ${describePlanValue(recorded.hash).replace(/^'|'$/g, '')}, ${describePlanValue(recorded.bytes)} bytes${written}; this file is ${actual})`,
    { file: model.source, hint: 'pass the model and the .deprune.json that one deprune prune wrote together, or prune again' },
  );
}

/**
 * Refuses a plan that does not fit the model: not a deprune plan, an unknown layer name, a layer of
 * another kind, a shape mismatch (for `channel` plans, against the recorded output shapes), an
 * entry whose indices do not rebuild a mask, a layer listed twice; a model file other than the one
 * the plan records (hash and size); with `checkWeights`, a pruned weight that is not 0. Throws a
 * DeprunError (ShapeError for layer problems) naming the model file and the first layer at fault.
 */
export function validatePlanForModel(plan: PrunePlan, model: OnnxModel, options: ValidatePlanOptions = {}): void {
  const file = model.source;
  if (plan === null || typeof plan !== 'object' || plan.format !== PLAN_FORMAT) {
    throw new DeprunError('BAD_CONFIG', `not a deprune plan (format must be '${PLAN_FORMAT}')`, { file, hint: 'pass the .deprune.json written by deprune prune' });
  }
  if (plan.version !== PLAN_VERSION) {
    throw new DeprunError('BAD_CONFIG', `deprune plan version ${describePlanValue(plan.version)} is not supported (this build reads version ${PLAN_VERSION})`, { file });
  }
  if (!Array.isArray(plan.layers)) throw new DeprunError('BAD_CONFIG', 'deprune plan has no layers array', { file });
  const infos = new Map(listLayers(model).map((info) => [info.name, info]));
  const masked: { info: LayerInfo; mask: ReturnType<typeof maskFromPlanEntry>; where: { file: string; node: string } }[] = [];
  const seen = new Set<string>();
  for (const [position, entry] of plan.layers.entries()) {
    if (typeof entry?.name !== 'string') throw new ShapeError(`plan layer #${position} has no name: it holds ${describePlanValue(entry?.name)}`, { file, hint: 'the plan file is damaged; write it again with deprune prune' });
    const name = entry.name;
    const where = { file, node: name };
    if (seen.has(name)) throw new ShapeError('plan lists this layer twice', where);
    seen.add(name);
    const info = infos.get(name);
    if (!info) {
      throw new ShapeError('plan layer is not a Conv/Gemm layer of this model', { ...where, hint: 'the plan was made for another model' });
    }
    if (info.kind !== entry.kind) {
      const kind = typeof entry.kind === 'string' && entry.kind.length <= 20 ? `a ${entry.kind.toUpperCase()} layer` : `the kind ${describePlanValue(entry.kind)}`;
      throw new ShapeError(`plan says ${kind}, the model has a ${info.kind} layer`, where);
    }
    // Own keys only: a layer named 'constructor' must not find Object's.
    const physicalShapes = plan.physical?.shapes;
    const expected = physicalShapes && typeof physicalShapes === 'object' && Object.hasOwn(physicalShapes, name) ? physicalShapes[name] : entry.shape;
    if (expected === null || typeof expected !== 'object') {
      throw new ShapeError(`plan layer has no shape: it holds ${describePlanValue(expected)}`, { ...where, hint: 'the plan file is damaged; write it again with deprune prune' });
    }
    const actual = layerInfoShape(info);
    if (!sameShape(expected, actual)) {
      throw new ShapeError(`plan expects ${formatShape(expected)}, the model has ${formatShape(actual)}`, {
        ...where,
        hint: 'the plan was made for another model (or another version of it)',
      });
    }
    masked.push({ info, mask: maskFromPlanEntry(entry), where });
  }
  // After the layer checks, which name the layer when the plan is for another network altogether.
  checkModelFileHash(plan, model, options.planFile);
  if (!options.checkWeights || plan.physical) return;
  const index = indexGraph(model);
  for (const { info, mask, where } of masked) {
    const weights = readFloatConstant(index, info.weight)!.data;
    for (let position = 0; position < mask.length; position++) {
      if (!mask[position] && weights[position] !== 0) {
        throw new ShapeError(`weight ${position} of '${info.weight}' is pruned by the plan but is ${weights[position]} in the model`, {
          ...where,
          hint: 'the model file does not carry the pruned weights; write it again with deprune prune',
        });
      }
    }
  }
}
