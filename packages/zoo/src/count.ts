import { constantDims, indexGraph, type OnnxModel } from '@deprune/onnx';

/** Which inputs of which ops are trainable parameters in torchvision's sense. */
const PARAMETER_INPUTS: Readonly<Record<string, readonly number[]>> = {
  Conv: [1, 2], // weight, bias
  Gemm: [1, 2], // weight (B), bias (C)
  BatchNormalization: [1, 2], // weight (gamma), bias (beta); running mean/var are buffers
};

/**
 * The number `sum(p.numel() for p in model.parameters())` gives in torchvision: Conv and
 * Gemm weights and biases plus BatchNormalization scale and bias (running statistics are
 * buffers, not parameters). Only constant operands count, each tensor once.
 */
export function trainableParameterCount(model: OnnxModel): number {
  const index = indexGraph(model);
  const counted = new Set<string>();
  let total = 0;
  for (const node of index.nodes) {
    const positions = PARAMETER_INPUTS[node.opType ?? ''];
    if (!positions) continue;
    for (const position of positions) {
      const name = node.input?.[position];
      if (!name || counted.has(name)) continue;
      const dims = constantDims(index, name);
      if (!dims) continue;
      counted.add(name);
      total += dims.reduce((product, dim) => product * dim, 1);
    }
  }
  return total;
}
