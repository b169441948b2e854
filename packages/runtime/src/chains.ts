import type { BackendMode } from './backends';
import { consumersOf, type NodeProto } from '@deprune/onnx';
import type { GraphState } from './context';

/**
 * Depth-wise separable chains: a DW conv whose result (after its fused BN / activation) only a
 * PW conv reads runs with that PW conv as one `dsconv` step of @deprune/gpu, so the intermediate
 * stays on the device between the two kernels instead of being read back and uploaded again.
 *
 * A pair chains when the DW conv is 2-D, the PW conv is 1x1 with stride 1, no pads and no
 * dilation (the direct PW kernels), the PW conv reads the value as its input 0 and nothing else
 * reads it, and the value is neither a graph output nor fetched (a value someone can see is
 * still computed on its own, like the fusions).
 */

/**
 * The modes where a chain keeps data off the host: gpu.js textures (GL) and buffers (WebGPU), and
 * wasm memory (the DW result feeds the PW kernel without a copy out and back in).
 */
export const DEVICE_RESIDENT_MODES: readonly BackendMode[] = Object.freeze(['wasm', 'headlessgl', 'webgl2', 'webgpu']);

/** By DW node name: the PW node that runs in the same step. Pure: reads the graph, writes nothing. */
export function planChains(state: GraphState, keep: ReadonlySet<string>): Map<string, NodeProto> {
  const chains = new Map<string, NodeProto>();
  const isImage = (value: string) => state.shapes.get(value)?.length === 4;
  for (const node of state.index.nodes) {
    if (node.opType !== 'Conv' || state.layers.get(node.name ?? '')?.kind !== 'dw') continue;
    const value = state.fusions.get(node.name ?? '')?.output ?? node.output?.[0] ?? '';
    if (value === '' || keep.has(value) || state.index.outputs.includes(value) || !isImage(node.input?.[0] ?? '') || !isImage(value)) continue;
    const readers = consumersOf(state.index, value);
    if (readers.length !== 1) continue;
    const [reader] = readers;
    const pw = state.layers.get(reader.name ?? '');
    if (reader.opType !== 'Conv' || reader.input?.[0] !== value || pw?.kind !== 'pw') continue;
    const direct = pw.strides.every((s) => s === 1) && pw.pads.every((p) => p === 0) && pw.dilations.every((d) => d === 1);
    if (direct) chains.set(node.name ?? '', reader);
  }
  return chains;
}
