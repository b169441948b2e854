import { maskLayer } from '@deprune/masks';
import { createRng, depthwiseConv2d, randomTensor, relativeL2Error, toFloat32 } from '@deprune/tensor';
import { applyActivation, buildTapTable, disposeBackend, getKernel, resolveMode } from '../src/index';

// A 3x3 depth-wise layer: 8 channels on a 16x16 input, pad 1, fused ReLU6.
const rng = createRng(1);
const x = toFloat32(randomTensor([1, 8, 16, 16], rng));
const weight = toFloat32(randomTensor([8, 1, 3, 3], rng));
const attrs = { pads: [1, 1, 1, 1], activation: 'relu6' } as const;

// 'auto' takes the best mode that works here (webasm in plain Node); or name one: 'cpu', 'webasm', ...
const { mode } = await resolveMode('auto');
const dense = await getKernel('dwDense', mode)(x, weight, null, attrs);

// DEPrune: a DCP plan at 50% for the layer; its kept taps per channel, packed once into tap tables.
const plan = maskLayer({ kind: 'dw', name: 'block1.dw', channels: 8, kernel: [3, 3], weights: Float64Array.from(weight.data) }, { ratio: 0.5 });
const table = buildTapTable({ name: plan.name, channels: 8, kernel: [3, 3], keptTaps: plan.keptIndices }, weight);
console.log(plan.kept.join(' '), table.slots, table.balance); // taps kept per channel; trip count (max kept, rounded up to t = 4)
const sparse = await getKernel('dwSparse', mode)(x, table, null, attrs);

// Parity with the float64 oracle on the masked weights.
const masked = toFloat32({ data: weight.data.map((w, i) => (plan.mask[i] ? w : 0)), shape: weight.shape });
const reference = applyActivation(depthwiseConv2d(x, masked, null, { pads: attrs.pads }).data, 'relu6');
console.log(dense.shape, relativeL2Error(sparse.data, reference) < 1e-4);
await disposeBackend();
