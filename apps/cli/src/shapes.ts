/**
 * `--input-shape`: parsing the flag and deciding the concrete shape of every graph input.
 * A dynamic batch dimension (the first) defaults to 1; any other dynamic dimension needs
 * the flag (or a bundled model's default), because MACs and layer shapes depend on it.
 */
import { ShapeError, UsageError } from '@deprune/errors';
import { graphOf, indexGraph, toNumber, type OnnxModel, type ValueInfoProto } from '@deprune/onnx';

/** A declared dimension: a number, a dim_param name, or null when the file says nothing. */
export type DeclaredDim = number | string | null;

export interface GraphInput {
  name: string;
  /** undefined when the file declares no shape at all (rank unknown). */
  declared: DeclaredDim[] | undefined;
}

export interface InputShapeFlags {
  /** A shape given without a name: applies to the model's only input. */
  unnamed?: number[];
  named: Map<string, number[]>;
}

const SHAPE_HINT = 'write positive integers separated by commas, e.g. --input-shape 1,3,224,224, or name=1,3,224,224 for one input of several';

/**
 * The most elements an input tensor may have: 2^31 (8 GiB of float32). Typed arrays cannot hold
 * much more, and an input that size is a typo or a hostile model (a dim of 2^40), not an image;
 * refusing it here gives exit 2 instead of a RangeError deep in a run.
 */
export const MAX_INPUT_ELEMENTS = 2 ** 31;

function elementCount(dims: readonly number[]): number {
  return dims.reduce((product, dim) => product * dim, 1);
}

function formatCount(value: number): string {
  return value.toLocaleString('en-US');
}

export function parseDims(text: string, flagText: string): number[] {
  const parts = text.split(',').map((part) => part.trim());
  const dims = parts.map((part) => (/^\d+$/.test(part) ? Number(part) : Number.NaN));
  if (text.trim() === '' || dims.some((dim) => !Number.isSafeInteger(dim) || dim < 1)) {
    throw new UsageError(`bad --input-shape '${flagText}'`, { hint: SHAPE_HINT });
  }
  if (elementCount(dims) > MAX_INPUT_ELEMENTS) {
    throw new ShapeError(`--input-shape '${flagText}' has ${formatCount(elementCount(dims))} elements, over the limit of ${formatCount(MAX_INPUT_ELEMENTS)}`, { hint: SHAPE_HINT });
  }
  return dims;
}

/** Parses every `--input-shape` value: `1,3,H,W` or `name=1,3,H,W`. */
export function parseInputShapeFlags(values: readonly string[]): InputShapeFlags {
  const flags: InputShapeFlags = { named: new Map() };
  for (const value of values) {
    const equals = value.lastIndexOf('=');
    if (equals >= 0) {
      const name = value.slice(0, equals).trim();
      if (!name) throw new UsageError(`bad --input-shape '${value}': the input name before '=' is empty`, { hint: SHAPE_HINT });
      if (flags.named.has(name)) throw new UsageError(`--input-shape given twice for input '${name}'`, { hint: SHAPE_HINT });
      flags.named.set(name, parseDims(value.slice(equals + 1), value));
    } else {
      if (flags.unnamed) throw new UsageError('--input-shape given twice without an input name', { hint: SHAPE_HINT });
      flags.unnamed = parseDims(value, value);
    }
  }
  return flags;
}

function declaredDims(info: ValueInfoProto | undefined): DeclaredDim[] | undefined {
  const shape = info?.type?.tensorType?.shape;
  if (!shape) return undefined;
  return (shape.dim ?? []).map((dim) => {
    if (dim.dimValue !== null && dim.dimValue !== undefined) {
      const value = toNumber(dim.dimValue);
      if (value > 0) return value;
    }
    return dim.dimParam ? dim.dimParam : null;
  });
}

/** The real graph inputs (initializers listed as inputs are left out), with their declared shapes. */
export function graphInputs(model: OnnxModel): GraphInput[] {
  const index = indexGraph(model);
  const infos = new Map((graphOf(model).input ?? []).map((info) => [info.name ?? '', info]));
  return index.inputs.map((name) => ({ name, declared: declaredDims(infos.get(name)) }));
}

/** Graph outputs with their declared shapes. */
export function graphOutputs(model: OnnxModel): GraphInput[] {
  return (graphOf(model).output ?? []).map((info) => ({ name: info.name ?? '', declared: declaredDims(info) }));
}

export function formatDeclared(dims: readonly DeclaredDim[] | undefined): string {
  if (!dims) return '[?]';
  return `[${dims.map((dim) => (typeof dim === 'number' ? String(dim) : '?')).join(',')}]`;
}

export interface ResolvedInputShape {
  name: string;
  shape: number[];
  declared: DeclaredDim[] | undefined;
  /** Where the shape came from: the flag, a bundled model's default, or the file (batch 1 filled in). */
  from: 'flag' | 'default' | 'model';
}

/**
 * The concrete shape of each graph input. `defaults` are a bundled model's shapes, by
 * input name; `source` names the model in errors.
 */
export function resolveInputShapes(
  model: OnnxModel,
  flags: InputShapeFlags,
  defaults: ReadonlyMap<string, readonly number[]>,
  source: string,
): ResolvedInputShape[] {
  const inputs = graphInputs(model);
  const names = inputs.map((input) => input.name);
  const list = names.map((name) => `'${name}'`).join(', ');
  for (const name of flags.named.keys()) {
    if (!names.includes(name)) {
      throw new UsageError(`--input-shape names '${name}', but the model's inputs are ${list || '(none)'}`, { file: source });
    }
  }
  if (flags.unnamed && inputs.length !== 1) {
    throw new UsageError(`the model has ${inputs.length} inputs (${list}); say which one --input-shape is for`, {
      file: source,
      hint: 'write --input-shape name=1,3,H,W once per input',
    });
  }
  return inputs.map((input) => checkSize(resolveOne(input, flags, defaults, inputs.length, source), source));
}

/** One input's concrete shape: the flag's, else the default, else the model's own (batch 1). */
function resolveOne(input: GraphInput, flags: InputShapeFlags, defaults: ReadonlyMap<string, readonly number[]>, inputCount: number, source: string): ResolvedInputShape {
  const given = flags.named.get(input.name) ?? (inputCount === 1 ? flags.unnamed : undefined);
  if (given) {
    checkFits(input, given, source);
    return { name: input.name, shape: [...given], declared: input.declared, from: 'flag' };
  }
  const fallback = defaults.get(input.name);
  if (fallback) return { name: input.name, shape: [...fallback], declared: input.declared, from: 'default' };
  const declared = input.declared;
  const dynamic = declared === undefined || declared.slice(1).some((dim) => typeof dim !== 'number');
  if (dynamic) {
    const example = declared ? declared.map((dim, i) => suggestedDim(dim, i, declared.length)) : ['1', '3', 'H', 'W'];
    throw new UsageError(`input '${input.name}' has a dynamic shape ${formatDeclared(declared)}, so layer shapes and MACs are unknown`, {
      file: source,
      hint: `pass --input-shape ${inputCount > 1 ? `${input.name}=` : ''}${example.join(',')}`,
    });
  }
  return { name: input.name, shape: declared.map((dim, i) => (typeof dim === 'number' ? dim : i === 0 ? 1 : 0)), declared, from: 'model' };
}

/** Refuses an input shape (from the model's dims or a default) with more than MAX_INPUT_ELEMENTS elements. */
function checkSize(resolved: ResolvedInputShape, source: string): ResolvedInputShape {
  const count = elementCount(resolved.shape);
  if (count <= MAX_INPUT_ELEMENTS) return resolved;
  throw new ShapeError(`input '${resolved.name}' of shape [${resolved.shape.join(',')}] has ${formatCount(count)} elements, over the limit of ${formatCount(MAX_INPUT_ELEMENTS)}`, {
    file: source,
    hint: resolved.from === 'model' ? 'the model declares an impossibly large input; pass --input-shape 1,3,H,W' : 'pass a smaller --input-shape',
  });
}

/** How an example shape names a dimension: its fixed value, 1 for the batch, else H/W/D. */
function suggestedDim(dim: DeclaredDim, index: number, rank: number): string {
  if (typeof dim === 'number') return String(dim);
  if (index === 0) return '1';
  if (index === rank - 1) return 'W';
  if (index === rank - 2) return 'H';
  return 'D';
}

function checkFits(input: GraphInput, given: readonly number[], source: string): void {
  const declared = input.declared;
  if (!declared) return;
  const axis = declared.findIndex((dim, i) => typeof dim === 'number' && dim !== given[i]);
  const problem =
    declared.length !== given.length
      ? `has rank ${declared.length}`
      : axis >= 0
        ? `fixes axis ${axis} to ${declared[axis]}`
        : undefined;
  if (problem) {
    throw new UsageError(`input '${input.name}' ${problem} (declared ${formatDeclared(declared)}) but --input-shape gave [${given.join(',')}]`, {
      file: source,
      hint: `pass --input-shape ${declared.map((dim, i) => suggestedDim(dim, i, declared.length)).join(',')}`,
    });
  }
}
