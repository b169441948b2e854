import { createRng, randomTensor, toFloat32 } from '@deprune/tensor';
import { buildZooModel } from '@deprune/zoo';
import { calibratedPrune } from '../src/index';

// A dense model whose input H and W are dynamic, and a few unlabelled inputs (real use: images
// preprocessed for the model, e.g. with @deprune/images' presets).
const dense = buildZooModel('mobilenetv3-small', { seed: 4, inputSize: 'dynamic' });
const samples = Array.from({ length: 4 }, (_, index) => ({
  tensor: toFloat32(randomTensor([1, 3, 64, 64], createRng(index))),
  source: `random ${index}`,
}));

// One call: statistics, prune() with greedy OBS importance and the MACs spread by saliency, reconstruction.
const { model, plan, report, oneShot } = await calibratedPrune(dense, samples, { variant: 'deprune-bh', ratio: 0.5 });
console.log(oneShot.importance, oneShot.allocation.mode, oneShot.allocation.budget, 'budget, shapes from', oneShot.shapes, JSON.stringify(oneShot.inputShapes));
console.log(`${plan.layers.length} layers, DSConv sparsity ${report.totals.dsconvSparsity.toFixed(3)}, MACs ${report.totals.macsBefore} -> ${report.totals.macsAfter}`);
console.log(`mean layer output error ${oneShot.meanErrorBefore!.toFixed(2)} -> ${oneShot.meanErrorAfter!.toFixed(2)} (${oneShot.engine})`);
console.log(model !== dense, plan.variant);
