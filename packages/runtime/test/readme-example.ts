import { prune } from '@deprune/pipeline';
import { createRng, randomTensor, relativeL2Error, toFloat32 } from '@deprune/tensor';
import { buildZooModel } from '@deprune/zoo';
import { createSession } from '../src/index';

// MobileNetV2 at 96x96 (seeded weights), and its DEPrune-BH version with the plan.
const model = buildZooModel('mobilenetv2', { inputSize: 96 });
const { model: pruned, plan } = prune(model, { variant: 'deprune-bh', ratio: 0.5 });

const dense = await createSession(model, { mode: 'webasm' });
const sparse = await createSession(pruned, { mode: 'webasm', plan });
const input = toFloat32(randomTensor([1, 3, 96, 96], createRng(1)));

const a = await dense.run({ input });
const b = await sparse.run({ input });
console.log(a.outputs.logits.shape, b.outputs.logits.shape);
console.log(relativeL2Error(b.outputs.logits.data, a.outputs.logits.data) > 0); // pruning changes the output

// What runs where: DEPrune layers on the sparse kernels, BN and activations fused into the convs.
const report = sparse.compile({ input: [1, 3, 96, 96] });
console.log(report.planLayers.length, report.kernels.dwSparse, report.kernels.pwSparse);
console.log(report.steps.find((step) => step.kernel === 'dwSparse'));

// Intermediates on request (calibration, debugging): fusion stops at a fetched value.
const { outputs } = await sparse.run({ input }, { fetch: ['features.1.conv.0.0_out'] });
console.log(outputs['features.1.conv.0.0_out'].shape);
