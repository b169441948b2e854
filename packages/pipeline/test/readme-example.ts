import { buildZooModel } from '@deprune/zoo';
import { prune, serializePlan } from '../src/index';

// MobileNetV2 1.0 (BatchNorm kept, input [1, 3, 224, 224]), seeded weights.
const model = buildZooModel('mobilenetv2');

// DEPrune-BH: DCP + PCP, balanced (BWT), kept counts recalibrated to step edges (HSR).
const { model: pruned, plan, report } = prune(model, { variant: 'deprune-bh', ratio: 0.6 });

const { totals, hsr } = report;
console.log(`${plan.layers.length} layers pruned (${totals.dwLayers} DW, ${totals.pwLayers} PW), ${report.skipped.length} skipped`);
console.log(`sparsity DW ${totals.dwSparsity.toFixed(3)}, PW ${totals.pwSparsity.toFixed(3)}, DSConv ${totals.dsconvSparsity.toFixed(3)}`);
console.log(`non-zero Conv/Gemm parameters ${totals.nonzeroBefore} -> ${totals.nonzeroAfter}`);
console.log(`MACs ${totals.macsBefore} -> ${totals.macsAfter}`);
console.log(`HSR ${hsr!.mode}: ${hsr!.moves} layers moved, predicted ${hsr!.predictedLatencyUs.before.toFixed(2)} -> ${hsr!.predictedLatencyUs.after.toFixed(2)} us`);
console.log(report.layers.find((layer) => layer.name === 'features.3.conv.2'));

// `pruned` is an OnnxModel (saveModel from '@deprune/onnx/node' writes it); the plan file is serializePlan(plan).
console.log(pruned !== model, serializePlan(plan).length > 0);
