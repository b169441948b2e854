import type { NodeContext, Operand } from '../context';
import type { CompiledStep, HostTensor, Placement } from '../types';

/** Turns a node (with its static shapes, constants, plan entry and fusion) into an executable step. */
export interface OpCompiler {
  /** The ONNX op types it compiles (default domain). */
  opTypes: readonly string[];
  /** 'device' when the step runs a @deprune/gpu kernel, 'host' for data movement in TypeScript. */
  placement: Placement;
  compile(ctx: NodeContext): CompiledStep;
}

export interface StepSpec {
  kernel: string;
  placement: Placement;
  /** The node's inputs as the step reads them; `run` receives them resolved, in this order. */
  operands: readonly Operand[];
  /** Values written; default: the fused chain's output, else the node's first output. */
  outputs?: readonly string[];
  /** Nodes the step computes besides the node and its fusion (a chained PW conv and its fusion). */
  nodes?: readonly string[];
  detail?: string;
  run(inputs: HostTensor[]): Promise<HostTensor[]> | HostTensor[];
}

/** A CompiledStep for `ctx`'s node (and its fused chain): constants baked in, run-time values by name. */
export function makeStep(ctx: NodeContext, spec: StepSpec): CompiledStep {
  const fusion = ctx.fusion();
  const valueNames = spec.operands.filter((operand) => operand.kind === 'value').map((operand) => operand.name);
  const slots = spec.operands.map((operand) => (operand.kind === 'constant' ? operand.tensor : undefined));
  return {
    node: ctx.name,
    opType: ctx.opType,
    nodes: [ctx.name, ...(fusion?.absorbed.map((node) => node.name ?? '') ?? []), ...(spec.nodes ?? [])],
    placement: spec.placement,
    kernel: spec.kernel,
    ...(spec.detail !== undefined ? { detail: spec.detail } : {}),
    inputs: valueNames,
    outputs: spec.outputs ?? [fusion?.output ?? ctx.output(0)],
    async run(values) {
      let next = 0;
      const resolved = slots.map((constant) => constant ?? values[next++]);
      return spec.run(resolved);
    },
  };
}
