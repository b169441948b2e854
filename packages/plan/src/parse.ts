/**
 * `parsePlan`: the one reader of plan files. A plan file is input (edited by hand, truncated,
 * written by another version, or fuzzed), so every field is checked before anything uses it, and
 * each refusal is a `PlanFileError` naming the file and the field's path (`layers[3].keptIndices`)
 * rather than a crash deep in the runtime or a message about a layer when the file is at fault.
 */
import { DeprunError, type DeprunErrorDetails } from '@deprune/errors';
import { GRANULARITIES, type Granularity, type LayerPlanShape } from '@deprune/masks';
import { PLAN_FORMAT, PLAN_VERSION, describePlanValue, type PrunePlan } from './plan';

export interface PlanFileErrorDetails extends DeprunErrorDetails {
  /** The path of the field at fault (`version`, `layers[3].keptIndices[0][2]`); none when the file as a whole is. */
  field?: string;
}

/** A plan file that cannot be read as a plan: code BAD_CONFIG (exit 2), the file and the field named. */
export class PlanFileError extends DeprunError {
  readonly field?: string;

  constructor(message: string, details: PlanFileErrorDetails = {}) {
    const { field, ...rest } = details;
    super('BAD_CONFIG', message, rest);
    this.field = field;
  }
}

const DAMAGED = 'the plan file is damaged; write it again with deprune prune';
const NOT_A_PLAN = 'pass the .deprune.json that deprune prune wrote next to the pruned model';

type Fail = (field: string, message: string) => never;

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Own keys only: a plan with a layer field named `constructor` must not find Object's. */
function own(object: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(object, key) ? object[key] : undefined;
}

function isPositiveInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1;
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0;
}

/** A field that must be there: "is missing" reads better than "must be a string, got undefined". */
function present(object: Record<string, unknown>, key: string, field: string, fail: Fail): unknown {
  const value = own(object, key);
  if (value === undefined) fail(field, 'is missing');
  return value;
}

function objectAt(object: Record<string, unknown>, key: string, field: string, fail: Fail): Record<string, unknown> {
  const value = present(object, key, field, fail);
  if (!isObject(value)) fail(field, `must be an object, got ${describePlanValue(value)}`);
  return value as Record<string, unknown>;
}

function stringAt(object: Record<string, unknown>, key: string, field: string, fail: Fail): string {
  const value = present(object, key, field, fail);
  if (typeof value !== 'string' || value.length === 0) fail(field, `must be a non-empty string, got ${describePlanValue(value)}`);
  return value as string;
}

function countAt(object: Record<string, unknown>, key: string, field: string, fail: Fail): number {
  const value = present(object, key, field, fail);
  if (!isCount(value)) fail(field, `must be an integer >= 0, got ${describePlanValue(value)}`);
  return value as number;
}

/** null or an integer >= 1: groupSize and step. */
function optionalPositiveAt(object: Record<string, unknown>, key: string, field: string, fail: Fail): number | null {
  const value = own(object, key);
  if (!Object.hasOwn(object, key)) fail(field, 'is missing (null when unused)');
  if (value !== null && !isPositiveInteger(value)) fail(field, `must be null or an integer >= 1, got ${describePlanValue(value)}`);
  return value as number | null;
}

/** Strictly ascending integers in [0, limit): kept taps or columns, removed channels. */
function checkIndexList(value: unknown, field: string, limit: number, fail: Fail): number[] {
  if (!Array.isArray(value)) return fail(field, `must be an array of indices, got ${describePlanValue(value)}`);
  for (let position = 0; position < value.length; position++) {
    const index: unknown = value[position];
    // Same wording as @deprune/masks' maskFromPlanEntry, which says it for plans built in memory.
    if (!isCount(index) || index >= limit) fail(`${field}[${position}]`, `= ${describePlanValue(index)} is outside [0, ${limit - 1}]`);
    if (position > 0 && (value[position - 1] as number) >= (index as number)) fail(field, 'must be strictly ascending');
  }
  return value as number[];
}

function checkStringList(value: unknown, field: string, fail: Fail): string[] {
  if (!Array.isArray(value)) return fail(field, `must be an array of names, got ${describePlanValue(value)}`);
  for (const [position, item] of value.entries()) {
    if (typeof item !== 'string') fail(`${field}[${position}]`, `must be a string, got ${describePlanValue(item)}`);
  }
  return value as string[];
}

const DW_SHAPE_KEYS = ['channels', 'kernel'] as const;
const PW_SHAPE_KEYS = ['outChannels', 'inChannels'] as const;
const SHAPE_KEYS: readonly string[] = [...DW_SHAPE_KEYS, ...PW_SHAPE_KEYS];

/**
 * A layer shape: DW `{ channels, kernel: [kh, kw] }` or PW `{ outChannels, inChannels }`, nothing
 * else. `kind` is the entry's; the output shapes of a `channel` plan come without one and are told
 * apart by their keys.
 */
function checkShape(value: unknown, field: string, kind: 'dw' | 'pw' | undefined, fail: Fail): LayerPlanShape {
  if (!isObject(value)) return fail(field, `must be an object, got ${describePlanValue(value)}`);
  for (const key of Object.keys(value)) {
    if (!SHAPE_KEYS.includes(key)) fail(`${field}.${key}`, 'is not a layer shape field (a DW shape has channels and kernel, a PW shape outChannels and inChannels)');
  }
  const hasDw = DW_SHAPE_KEYS.some((key) => Object.hasOwn(value, key));
  const hasPw = PW_SHAPE_KEYS.some((key) => Object.hasOwn(value, key));
  const shapeKind = kind ?? (hasDw && !hasPw ? 'dw' : hasPw && !hasDw ? 'pw' : undefined);
  if (shapeKind === undefined) fail(field, 'is neither a DW shape { channels, kernel } nor a PW shape { outChannels, inChannels }');
  const foreign = shapeKind === 'dw' ? PW_SHAPE_KEYS : DW_SHAPE_KEYS;
  for (const key of foreign) {
    if (Object.hasOwn(value, key)) fail(`${field}.${key}`, `does not belong to a ${shapeKind.toUpperCase()} layer's shape`);
  }
  if (shapeKind === 'dw') {
    const channels = present(value, 'channels', `${field}.channels`, fail);
    if (!isPositiveInteger(channels)) fail(`${field}.channels`, `must be an integer >= 1, got ${describePlanValue(channels)}`);
    const kernel = present(value, 'kernel', `${field}.kernel`, fail);
    if (!Array.isArray(kernel) || kernel.length !== 2 || !isPositiveInteger(kernel[0]) || !isPositiveInteger(kernel[1])) {
      fail(`${field}.kernel`, `must be [kh, kw], two integers >= 1, got ${describePlanValue(kernel)}`);
    }
    return value as LayerPlanShape;
  }
  for (const key of PW_SHAPE_KEYS) {
    const size = present(value, key, `${field}.${key}`, fail);
    if (!isPositiveInteger(size)) fail(`${field}.${key}`, `must be an integer >= 1, got ${describePlanValue(size)}`);
  }
  return value as LayerPlanShape;
}

/**
 * One layer entry, by the layout rules of `@deprune/masks` `LayerPlanEntry`: DW entries list kept
 * taps per channel, PW entries kept input columns per tile of `tileRows` output rows.
 */
function checkLayer(entry: unknown, at: string, fail: Fail): void {
  if (!isObject(entry)) return fail(at, `must be an object, got ${describePlanValue(entry)}`);
  stringAt(entry, 'name', `${at}.name`, fail);
  const kind = present(entry, 'kind', `${at}.kind`, fail);
  if (kind !== 'dw' && kind !== 'pw') return fail(`${at}.kind`, `must be 'dw' or 'pw', got ${describePlanValue(kind)}`);
  stringAt(entry, 'strategy', `${at}.strategy`, fail);
  const granularity = present(entry, 'granularity', `${at}.granularity`, fail);
  if (!GRANULARITIES.includes(granularity as Granularity)) {
    fail(`${at}.granularity`, `must be one of ${GRANULARITIES.join(', ')}, got ${describePlanValue(granularity)}`);
  }
  optionalPositiveAt(entry, 'groupSize', `${at}.groupSize`, fail);
  optionalPositiveAt(entry, 'step', `${at}.step`, fail);
  const shape = checkShape(present(entry, 'shape', `${at}.shape`, fail), `${at}.shape`, kind, fail);
  if (!Object.hasOwn(entry, 'tileRows')) fail(`${at}.tileRows`, 'is missing (null for a DW layer)');
  const tileRows = entry.tileRows;
  let units: number;
  let unitSize: number;
  if (kind === 'dw') {
    if (tileRows !== null) fail(`${at}.tileRows`, `must be null for a DW layer, got ${describePlanValue(tileRows)}`);
    units = shape.channels!;
    unitSize = shape.kernel![0] * shape.kernel![1];
  } else {
    const rows = shape.outChannels!;
    if (!isPositiveInteger(tileRows) || tileRows > rows) fail(`${at}.tileRows`, `must be an integer in [1, ${rows}], got ${describePlanValue(tileRows)}`);
    units = Math.ceil(rows / (tileRows as number));
    unitSize = shape.inChannels!;
  }
  const unitName = kind === 'dw' ? 'channel' : 'tile';
  const keptIndices = present(entry, 'keptIndices', `${at}.keptIndices`, fail);
  if (!Array.isArray(keptIndices) || keptIndices.length !== units) {
    fail(`${at}.keptIndices`, `must be an array of ${units} index lists (one per ${unitName}), got ${describePlanValue(keptIndices)}`);
  }
  const kept = present(entry, 'kept', `${at}.kept`, fail);
  if (!Array.isArray(kept) || kept.length !== units) fail(`${at}.kept`, `must be an array of ${units} counts (one per ${unitName}), got ${describePlanValue(kept)}`);
  for (let unit = 0; unit < units; unit++) {
    const list = checkIndexList((keptIndices as unknown[])[unit], `${at}.keptIndices[${unit}]`, unitSize, fail);
    const count = (kept as unknown[])[unit];
    if (count !== list.length) fail(`${at}.kept[${unit}]`, `is ${describePlanValue(count)} but keptIndices[${unit}] lists ${list.length}`);
  }
  const sparsity = present(entry, 'sparsity', `${at}.sparsity`, fail);
  if (typeof sparsity !== 'number' || !(sparsity >= 0 && sparsity <= 1)) fail(`${at}.sparsity`, `must be a number in [0, 1], got ${describePlanValue(sparsity)}`);
  const removed = own(entry, 'removedChannels');
  // DW: whole channels; PW: whole input columns.
  if (removed !== undefined) checkIndexList(removed, `${at}.removedChannels`, kind === 'dw' ? units : unitSize, fail);
}

function checkPhysical(value: unknown, fail: Fail): void {
  if (value === null) return;
  if (!isObject(value)) return fail('physical', `must be null or an object, got ${describePlanValue(value)}`);
  const removals = present(value, 'removals', 'physical.removals', fail);
  if (!Array.isArray(removals)) return fail('physical.removals', `must be an array, got ${describePlanValue(removals)}`);
  for (const [position, removal] of removals.entries()) {
    const at = `physical.removals[${position}]`;
    if (!isObject(removal)) return fail(at, `must be an object, got ${describePlanValue(removal)}`);
    stringAt(removal, 'dw', `${at}.dw`, fail);
    // Channel indices of the input model: ascending and non-negative; their bound is the model's.
    checkIndexList(present(removal, 'channels', `${at}.channels`, fail), `${at}.channels`, Number.MAX_SAFE_INTEGER, fail);
    checkStringList(present(removal, 'touched', `${at}.touched`, fail), `${at}.touched`, fail);
  }
  const shapes = objectAt(value, 'shapes', 'physical.shapes', fail);
  for (const name of Object.keys(shapes)) checkShape(shapes[name], `physical.shapes[${JSON.stringify(name)}]`, undefined, fail);
}

/**
 * A plan from the text of a `.deprune.json` file, checked field by field against the format
 * (`PLAN_JSON_SCHEMA` describes it): throws a `PlanFileError` (code BAD_CONFIG) naming `file` and
 * the first field at fault, e.g. `layers[3].keptIndices[0][2] = 9 is outside [0, 8]`. Whether the
 * plan fits a particular model is `validatePlanForModel`'s question, not this one's.
 */
export function parsePlan(text: string, file?: string): PrunePlan {
  const where = file === undefined ? {} : { file };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new PlanFileError(`the plan is not valid JSON: ${(cause as Error).message.split('\n')[0]}`, { ...where, hint: NOT_A_PLAN, cause });
  }
  // `null` must be refused here: a caller would otherwise read it as "no plan" and run dense.
  if (!isObject(value)) {
    const what = value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`;
    throw new PlanFileError(`not a deprune plan: the file holds ${what}, not a JSON object`, { ...where, hint: NOT_A_PLAN });
  }
  const fail: Fail = (field, message) => {
    throw new PlanFileError(`${field} ${message}`, { ...where, field, hint: DAMAGED });
  };
  const format = own(value, 'format');
  if (format !== PLAN_FORMAT) {
    throw new PlanFileError(`not a deprune plan: format is ${describePlanValue(format)}, not '${PLAN_FORMAT}'`, { ...where, field: 'format', hint: NOT_A_PLAN });
  }
  const version = own(value, 'version');
  if (version !== PLAN_VERSION) {
    throw new PlanFileError(`deprune plan version ${describePlanValue(version)} is not supported (this build reads version ${PLAN_VERSION})`, {
      ...where,
      field: 'version',
      hint: 'write the plan again with this version of deprune prune',
    });
  }
  stringAt(value, 'variant', 'variant', fail);
  const model = objectAt(value, 'model', 'model', fail);
  if (typeof present(model, 'source', 'model.source', fail) !== 'string') fail('model.source', `must be a string, got ${describePlanValue(model.source)}`);
  stringAt(model, 'hash', 'model.hash', fail);
  countAt(model, 'bytes', 'model.bytes', fail);
  const output = objectAt(value, 'output', 'output', fail);
  stringAt(output, 'hash', 'output.hash', fail);
  countAt(output, 'bytes', 'output.bytes', fail);
  const outputFile = own(output, 'file');
  if (outputFile !== undefined && typeof outputFile !== 'string') fail('output.file', `must be a string when present, got ${describePlanValue(outputFile)}`);
  objectAt(value, 'config', 'config', fail);
  const layers = present(value, 'layers', 'layers', fail);
  if (!Array.isArray(layers)) fail('layers', `must be an array of layer entries, got ${describePlanValue(layers)}`);
  for (const [position, entry] of (layers as unknown[]).entries()) checkLayer(entry, `layers[${position}]`, fail);
  if (!Object.hasOwn(value, 'physical')) fail('physical', 'is missing (null for masking variants)');
  checkPhysical(value.physical, fail);
  return value as unknown as PrunePlan;
}
