import { ShapeError } from '@deprune/errors';
import { graphOf, indexGraph, opsetVersion, type OnnxModel } from './model';
import { toNumber, type NodeProto, type ValueInfoProto } from './proto';
import { MAX_VALUE_ELEMENTS, OpContext, Unresolvable, shapeRules, type ShapeState } from './shape-rules';
import { decodeNumericTensor, tensorDims } from './tensor-proto';
import { elementCount } from './small-tensor';

export interface UnresolvedNode {
  node: string;
  opType: string;
  reason: string;
}

/**
 * The result of static shape inference: a fully known shape for every value it could
 * resolve (graph inputs, constants, node outputs), the known values of small tensors
 * (shape operands: Shape -> Gather -> Concat chains), and the nodes it could not resolve.
 */
export interface ShapeInference {
  shapes: Map<string, number[]>;
  /** Values of small tensors (at most MAX_VALUE_ELEMENTS elements) known before run time. */
  values: Map<string, number[]>;
  unresolved: UnresolvedNode[];
}

export interface InferShapesOptions {
  /**
   * Concrete shapes of graph inputs, by input name ('*' stands for the only input of a
   * single-input model). Needed for every dynamic dimension except the batch axis.
   */
  inputShapes?: Record<string, readonly number[]>;
}

interface DeclaredDim {
  value?: number;
  param?: string;
}

function declaredDims(input: ValueInfoProto): DeclaredDim[] | undefined {
  const shape = input.type?.tensorType?.shape;
  if (!shape) return undefined;
  return (shape.dim ?? []).map((dim) => {
    const value = dim.dimValue === null || dim.dimValue === undefined ? undefined : toNumber(dim.dimValue);
    return value !== undefined && value > 0 ? { value } : { param: dim.dimParam || undefined };
  });
}

function formatDeclared(dims: readonly DeclaredDim[]): string {
  return `[${dims.map((dim) => dim.value ?? dim.param ?? '?').join(', ')}]`;
}

function exampleShape(dims: readonly DeclaredDim[]): string {
  const spatial = dims.length === 4 ? ['H', 'W'] : dims.length === 3 ? ['L'] : [];
  return dims
    .map((dim, axis) => {
      if (axis === 0) return '1';
      if (dim.value !== undefined) return String(dim.value);
      const spatialAxis = axis - (dims.length - spatial.length);
      return spatialAxis >= 0 ? spatial[spatialAxis] : `D${axis}`;
    })
    .join(',');
}

/**
 * Resolves every real graph input to a concrete shape: declared static dims, batch 1 for
 * a dynamic axis 0, and the caller's shapes for the rest. Refuses what it cannot settle.
 */
function resolveInputShapes(model: OnnxModel, realInputs: readonly string[], given: Record<string, readonly number[]>): Map<string, number[]> {
  const graph = graphOf(model);
  const declared = new Map((graph.input ?? []).map((input) => [input.name ?? '', input]));
  const single = realInputs.length === 1;
  for (const key of Object.keys(given)) {
    if (key === '*' && !single) {
      throw new ShapeError(`an input shape for '*' is ambiguous: the model has ${realInputs.length} inputs (${realInputs.join(', ')})`, {
        file: model.source,
        hint: 'name each input',
      });
    }
    if (key !== '*' && !realInputs.includes(key)) {
      throw new ShapeError(`an input shape was given for '${key}', but the model's inputs are: ${realInputs.join(', ') || 'none'}`, {
        file: model.source,
      });
    }
  }
  const resolved = new Map<string, number[]>();
  for (const name of realInputs) {
    const dims = declaredDims(declared.get(name) ?? {});
    const shape = given[name] ?? (single ? given['*'] : undefined);
    const flag = single ? '--input-shape ' : `--input-shape ${name}=`;
    if (shape) {
      if (!Array.isArray(shape) || shape.some((dim) => !Number.isInteger(dim) || dim <= 0)) {
        throw new ShapeError(`the shape given for input '${name}' must be positive integers, got [${String(shape)}]`, { file: model.source });
      }
      if (dims && dims.length !== shape.length) {
        throw new ShapeError(`input '${name}' is declared as ${formatDeclared(dims)} (rank ${dims.length}) but the given shape [${shape.join(', ')}] has rank ${shape.length}`, {
          file: model.source,
          hint: `pass ${flag}${exampleShape(dims)}`,
        });
      }
      dims?.forEach((dim, axis) => {
        if (dim.value !== undefined && dim.value !== shape[axis]) {
          throw new ShapeError(
            `input '${name}' is declared as ${formatDeclared(dims)}, which fixes axis ${axis} to ${dim.value}, but the given shape [${shape.join(', ')}] has ${shape[axis]}`,
            { file: model.source, hint: `pass ${flag}${exampleShape(dims)}` },
          );
        }
      });
      resolved.set(name, [...shape]);
      continue;
    }
    if (!dims) {
      throw new ShapeError(`input '${name}' declares no shape`, { file: model.source, hint: `pass its shape with ${flag}1,3,H,W` });
    }
    const missing = dims.findIndex((dim, axis) => dim.value === undefined && axis !== 0);
    if (missing >= 0) {
      throw new ShapeError(`input '${name}' has dynamic dimensions ${formatDeclared(dims)}; static shape inference needs them`, {
        file: model.source,
        hint: `pass ${flag}${exampleShape(dims)} with the sizes you run the model at`,
      });
    }
    resolved.set(name, dims.map((dim) => dim.value ?? 1));
  }
  return resolved;
}

/** Nodes in dependency order (ONNX requires it, but a hand-edited file may not comply). */
function topologicalOrder(nodes: readonly NodeProto[]): NodeProto[] {
  const producerIndex = new Map<string, number>();
  nodes.forEach((node, i) => (node.output ?? []).forEach((output) => output && producerIndex.set(output, i)));
  const state = new Uint8Array(nodes.length);
  const order: NodeProto[] = [];
  const visit = (start: number) => {
    const stack: [number, number][] = [[start, 0]];
    while (stack.length > 0) {
      const top = stack[stack.length - 1];
      const [i, next] = top;
      if (next === 0) state[i] = 1;
      const inputs = nodes[i].input ?? [];
      if (next < inputs.length) {
        top[1]++;
        const dep = producerIndex.get(inputs[next]);
        if (dep !== undefined && state[dep] === 0) stack.push([dep, 0]);
        continue;
      }
      state[i] = 2;
      order.push(nodes[i]);
      stack.pop();
    }
  };
  nodes.forEach((_, i) => state[i] === 0 && visit(i));
  return order;
}

/**
 * Static shape inference at batch 1. Graph inputs get concrete shapes (see
 * InferShapesOptions); every node output whose shape follows from them is resolved,
 * including shapes computed at run time from other shapes (their values are propagated
 * alongside). An operator it cannot handle is listed in `unresolved` with the reason,
 * and everything downstream of it stays unknown; it never throws for an operator.
 * Throws ShapeError when an input's shape cannot be settled.
 */
export function inferShapes(model: OnnxModel, options: InferShapesOptions = {}): ShapeInference {
  const index = indexGraph(model);
  const graph = graphOf(model);
  const opset = opsetVersion(model);
  const state: ShapeState = { shapes: new Map(), values: new Map(), types: new Map() };
  for (const initializer of graph.initializer ?? []) {
    const name = initializer.name ?? '';
    const dims = tensorDims(initializer);
    state.shapes.set(name, dims);
    if (initializer.dataType) state.types.set(name, initializer.dataType);
    if (elementCount(dims) <= MAX_VALUE_ELEMENTS) {
      try {
        state.values.set(name, decodeNumericTensor(initializer, { file: model.source, readExternal: model.readExternal }).values);
      } catch {
        // Strings and other non-numeric constants carry no value we can use.
      }
    }
  }
  const inputShapes = resolveInputShapes(model, index.inputs, options.inputShapes ?? {});
  for (const [name, shape] of inputShapes) state.shapes.set(name, shape);
  for (const input of graph.input ?? []) {
    const type = input.type?.tensorType?.elemType;
    if (input.name && type && !state.types.has(input.name)) state.types.set(input.name, type);
  }

  const unresolved: UnresolvedNode[] = [];
  for (const node of topologicalOrder(index.nodes)) {
    const name = node.name ?? '';
    const opType = node.opType ?? '';
    const record = (reason: string) => unresolved.push({ node: name, opType, reason });
    if (node.domain && node.domain !== 'ai.onnx') {
      record(`custom operator in domain '${node.domain}'`);
      continue;
    }
    const unknownInput = (node.input ?? []).find((input) => input && !state.shapes.has(input));
    if (unknownInput !== undefined) {
      record(
        index.producer.has(unknownInput)
          ? `input '${unknownInput}' has no inferred shape (its producer is unresolved)`
          : `input '${unknownInput}' is not a graph input, initializer or node output`,
      );
      continue;
    }
    const rule = shapeRules[opType];
    if (!rule) {
      record(`no shape rule for operator ${opType}`);
      continue;
    }
    try {
      rule(new OpContext(node, opset, state));
    } catch (error) {
      // A malformed attribute or constant must not abort inference of the whole graph either.
      record(error instanceof Unresolvable ? error.message : `cannot infer: ${(error as Error).message}`);
    }
  }
  return { shapes: state.shapes, values: state.values, unresolved };
}
