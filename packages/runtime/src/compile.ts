import { UnsupportedError, UsageError } from '@deprune/errors';
import type { KernelBackend } from '@deprune/kernels';
import type { LayerPlanEntry } from '@deprune/masks';
import { indexGraph, inferShapes, listLayers, opsetVersion, type OnnxModel } from '@deprune/onnx';
import type { BackendMode } from './backends';
import { NodeContext, readConstant, type GraphState } from './context';
import { planChains } from './chains';
import { planFusions } from './fusion';
import { getOpCompiler } from './ops/registry';
import type { CompiledStep, CompileReport, HostTensor } from './types';

/**
 * Compiling a model for one set of input shapes: static shapes and small values come from
 * @deprune/onnx's shape inference (so Shape -> Gather -> Concat -> Reshape chains fold away and
 * every kernel's sizes are known), the fusion pass folds BN / affine / activation nodes into the
 * kernels before them, DW convs take the PW conv that alone reads them into one step (chains.ts,
 * in the device modes), and each remaining node becomes a step through the operator registry.
 * Every unsupported operator is found here, before anything runs, and reported in one error.
 */

export interface CompileOptions {
  mode: BackendMode;
  /** The backend the steps' kernels come from (the mode's). */
  backend: KernelBackend;
  inputShapes: Record<string, readonly number[]>;
  /** Plan entries by layer name (masking variants); empty runs every layer dense. */
  planEntries: ReadonlyMap<string, LayerPlanEntry>;
  sparse: boolean;
  fuse: boolean;
  /** Intermediate values the caller will fetch: kept visible (never fused through). */
  keep: ReadonlySet<string>;
  /** Run each DW conv and the PW conv that alone reads it as one `dsconv` step (chains.ts). Default false. */
  chain?: boolean;
}

export interface CompiledGraph {
  inputs: { name: string; shape: number[] }[];
  outputs: string[];
  steps: CompiledStep[];
  /** After step i: the values nothing reads any more, dropped so their memory can go. */
  releases: string[][];
  /** Outputs and fetched values known at compile time (folded), by name. */
  constants: Map<string, HostTensor>;
  report: CompileReport;
}

/** The ops in the default domain; anything in another domain (custom ops) is unsupported here. */
function isDefaultDomain(domain: string | null | undefined): boolean {
  return domain === undefined || domain === null || domain === '' || domain === 'ai.onnx';
}

/** One error for everything the runtime cannot run: each op type with the nodes that use it. */
function unsupportedError(file: string, missing: Map<string, string[]>, unresolved: { node: string; reason: string }[]): UnsupportedError {
  const parts: string[] = [];
  if (missing.size > 0) {
    const ops = [...missing.entries()].map(([op, nodes]) => `${op} (${nodes.slice(0, 3).join(', ')}${nodes.length > 3 ? `, +${nodes.length - 3} more` : ''})`);
    parts.push(`unsupported operators: ${ops.join('; ')}`);
  }
  if (unresolved.length > 0) {
    parts.push(`shapes unknown before run time: ${unresolved.slice(0, 3).map((each) => `'${each.node}' (${each.reason})`).join('; ')}${unresolved.length > 3 ? `, +${unresolved.length - 3} more` : ''}`);
  }
  return new UnsupportedError(`the runtime cannot run this model: ${parts.join('; ')}`, {
    file,
    hint: 'run it with onnxruntime, or register the operators with registerOp from @deprune/runtime',
  });
}

/**
 * The largest set of values alive at once while the steps run, in bytes (float32): the inputs,
 * then each step's outputs until their last reader. What a run needs for activations at least,
 * whatever the backend; a caller can refuse a model whose shapes would need more than it has
 * (a pad of a million pixels in a 4 KB model) before allocating any of it.
 */
function largestLiveSet(steps: readonly CompiledStep[], releases: readonly string[][], inputs: readonly string[], shapeOf: (name: string) => readonly number[] | undefined): number {
  const bytes = (name: string) => 4 * (shapeOf(name) ?? []).reduce((product, dim) => product * dim, 1);
  const live = new Map<string, number>(inputs.map((name) => [name, bytes(name)]));
  let total = [...live.values()].reduce((sum, value) => sum + value, 0);
  let largest = total;
  steps.forEach((step, position) => {
    for (const name of step.outputs) {
      if (live.has(name)) continue;
      live.set(name, bytes(name));
      total += live.get(name)!;
    }
    largest = Math.max(largest, total);
    for (const name of releases[position]) {
      total -= live.get(name) ?? 0;
      live.delete(name);
    }
  });
  return largest;
}

export function compileGraph(model: OnnxModel, options: CompileOptions): CompiledGraph {
  const index = indexGraph(model);
  const inference = inferShapes(model, { inputShapes: options.inputShapes });
  const state: GraphState = {
    index,
    opset: opsetVersion(model),
    mode: options.mode,
    backend: options.backend,
    shapes: inference.shapes,
    values: inference.values,
    layers: new Map(listLayers(model, inference).map((info) => [info.name, info])),
    planEntries: options.planEntries,
    sparse: options.sparse,
    fusions: new Map(),
    chains: new Map(),
    constantCache: new Map(),
    planUses: [],
  };
  const folded = (node: { output?: string[] | null }) => (node.output ?? []).every((name) => name === '' || inference.values.has(name));

  // 1. What cannot run, all of it at once.
  const missing = new Map<string, string[]>();
  for (const node of index.nodes) {
    if (node.opType === 'Constant' || folded(node)) continue;
    const op = isDefaultDomain(node.domain) ? getOpCompiler(node.opType ?? '') : undefined;
    if (op === undefined) {
      const key = isDefaultDomain(node.domain) ? (node.opType ?? '?') : `${node.domain}.${node.opType}`;
      missing.set(key, [...(missing.get(key) ?? []), node.name ?? '?']);
    }
  }
  const unresolved = inference.unresolved.filter((each) => !missing.has(each.opType));
  if (missing.size > 0 || unresolved.length > 0) throw unsupportedError(model.source, missing, unresolved);

  // 2. Fusions, then one step per remaining node.
  if (options.fuse) {
    const plan = planFusions({ index, opset: state.opset, shapes: inference.shapes, keep: options.keep, readConstant: (name) => readConstant(state, name) });
    for (const [name, fusion] of plan.fusions) state.fusions.set(name, fusion);
  }
  if (options.chain === true) for (const [name, pw] of planChains(state, options.keep)) state.chains.set(name, pw);
  // A chained PW conv and its fusion run in its DW conv's step.
  const chainedPw = [...state.chains.values()];
  const absorbed = new Set([...state.fusions.values()].flatMap((fusion) => fusion.absorbed.map((node) => node.name ?? '')));
  for (const pw of chainedPw) {
    absorbed.add(pw.name ?? '');
    for (const node of state.fusions.get(pw.name ?? '')?.absorbed ?? []) absorbed.add(node.name ?? '');
  }
  const steps: CompiledStep[] = [];
  const foldedNodes: string[] = [];
  for (const node of index.nodes) {
    if (absorbed.has(node.name ?? '') || node.opType === 'Constant') continue;
    if (folded(node)) {
      foldedNodes.push(node.name ?? '');
      continue;
    }
    steps.push(getOpCompiler(node.opType ?? '')!.compile(new NodeContext(node, state)));
  }

  // 3. Which values each step is the last reader of.
  const produced = new Set(steps.flatMap((step) => step.outputs));
  const visible = new Set([...index.outputs, ...options.keep]);
  const constants = new Map<string, HostTensor>();
  for (const name of visible) {
    if (produced.has(name) || index.inputs.includes(name)) continue;
    const value = readConstant(state, name);
    if (value === undefined) {
      throw new UsageError(`no value named '${name}' in the model`, { file: model.source, hint: 'fetch a node output or graph input by its exact name (deprune inspect lists the nodes)' });
    }
    constants.set(name, value);
  }
  const lastReader = new Map<string, number>();
  steps.forEach((step, position) => {
    for (const name of [...step.inputs, ...step.outputs]) lastReader.set(name, position);
  });
  const releases: string[][] = steps.map(() => []);
  for (const [name, position] of lastReader) if (!visible.has(name)) releases[position].push(name);

  const kernels: Record<string, number> = {};
  for (const step of steps) kernels[step.kernel] = (kernels[step.kernel] ?? 0) + 1;
  const activationBytes = largestLiveSet(steps, releases, index.inputs, (name) => inference.shapes.get(name));
  return {
    inputs: index.inputs.map((name) => ({ name, shape: inference.shapes.get(name)! })),
    outputs: [...index.outputs],
    steps,
    releases,
    constants,
    report: {
      mode: options.mode,
      inputShapes: Object.fromEntries(index.inputs.map((name) => [name, inference.shapes.get(name)!])),
      steps: steps.map(({ node, opType, nodes, placement, kernel, detail }) => ({ node, opType, nodes, placement, kernel, ...(detail !== undefined ? { detail } : {}) })),
      folded: foldedNodes,
      kernels,
      planLayers: state.planUses,
      activationBytes,
    },
  };
}
