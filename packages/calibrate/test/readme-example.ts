import { prune } from '@deprune/pipeline';
import { createRng, randomTensor, toFloat32 } from '@deprune/tensor';
import { buildZooModel } from '@deprune/zoo';
import { collectStatistics, reconstruct, type CalibrationSample } from '@deprune/calibrate';
import { onnxruntimeEngine } from '@deprune/calibrate/onnxruntime';

// A dense model and a few unlabelled inputs (real use: images through @deprune/images' presets).
const dense = buildZooModel('mobilenetv3-small', { seed: 4, inputSize: 96 });
const samples: CalibrationSample[] = Array.from({ length: 8 }, (_, index) => ({
  tensor: toFloat32(randomTensor([1, 3, 96, 96], createRng(index))),
  source: `random ${index}`,
}));
const engine = onnxruntimeEngine(); // or runtimeEngine() from '@deprune/calibrate': no native dependency

// 1. One dense pass: per-layer input statistics (Gram matrices), then OBS importance.
const { statistics } = await collectStatistics(dense, samples, { engine });
const { model, plan } = prune(dense, { variant: 'deprune-bh', ratio: 0.5, importance: 'obs' }, { statistics });

// 2. Re-fit the kept weights and biases layer by layer; the masks stay exactly the plan's.
const result = await reconstruct(dense, model, plan, samples, { engine });
const { report } = result;
console.log(`${report.layers.length} layers in ${report.passes} passes, damping ${report.damping}`);
console.log(`mean relative output error ${report.meanErrorBefore.toFixed(3)} -> ${report.meanErrorAfter.toFixed(3)}`);
const layer = report.layers[1];
console.log(layer.name, layer.kind, layer.errorBefore.toFixed(3), '->', layer.errorAfter.toFixed(3));
console.log(JSON.stringify(result.plan.layers) === JSON.stringify(plan.layers));
await engine.dispose();
