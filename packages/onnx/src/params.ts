import { constantDims, indexGraph, readFloatConstant, type OnnxModel } from './model';

/**
 * Stored and non-zero elements of every Conv and Gemm weight and bias tensor, each tensor
 * counted once (a shared weight is one tensor). This is what `inspect` reports as params and
 * what prune reports before/after: ops from other domains and computed weights do not count.
 * A non-float tensor is counted as stored without being inspected for zeros.
 */
export function convGemmParameters(model: OnnxModel): { params: number; nonzero: number } {
  const index = indexGraph(model);
  const counted = new Set<string>();
  let params = 0;
  let nonzero = 0;
  for (const node of index.nodes) {
    if (node.opType !== 'Conv' && node.opType !== 'Gemm') continue;
    if (node.domain && node.domain !== 'ai.onnx') continue;
    for (const name of (node.input ?? []).slice(1, 3)) {
      if (!name || counted.has(name)) continue;
      const dims = constantDims(index, name);
      if (!dims) continue;
      counted.add(name);
      const size = dims.reduce((product, dim) => product * dim, 1);
      params += size;
      let values: Float32Array | undefined;
      try {
        values = readFloatConstant(index, name)?.data;
      } catch {
        values = undefined;
      }
      if (!values) nonzero += size;
      else for (let position = 0; position < values.length; position++) if (values[position] !== 0) nonzero++;
    }
  }
  return { params, nonzero };
}
