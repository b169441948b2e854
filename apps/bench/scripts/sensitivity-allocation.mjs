#!/usr/bin/env node
// Allocation by measured output sensitivity, against saliency-macs (issue 17; it did not help, and
// the script stays so the result can be rerun). For every layer the recipe prunes and every ratio of
// GRID (default 0.2,0.4,0.6,0.8,0.9), only that layer is pruned (DEPrune-BH, obs-greedy) and
// reconstructed, and the network's output on the calibration samples is compared with the dense
// model's: the mean KL divergence of the last axis (rec: per time step; cls: per image). Then each
// layer takes the ratio that minimises divergence - lambda x MACs saved, lambda bisected until the
// MACs saved match saliency-macs at the given ratio (layers assumed additive). Both allocations are
// reconstructed and scored on the held-out sets of recipe-ablation.mjs.
// Usage: [MODEL=ppocr-cls] [CALIB_SOURCE=s] [CALIB_SEED=s1,s2] [GRID=r1,r2,...] node apps/bench/scripts/sensitivity-allocation.mjs [ratio] [samples]
import { collectStatistics, reconstruct } from '@deprune/calibrate';
import { indexGraph } from '@deprune/onnx';
import { ALLOCATION_PRESETS, prune } from '@deprune/pipeline';
import { calibrationSamples, checkedNumber, loadRecipeModel, recipeSettings, withHeldOutSets } from './lib/held-out.mjs';

const SCRIPT = 'sensitivity-allocation';
const [ratioText = '0.5', samplesText = '32'] = process.argv.slice(2);
const ratio = checkedNumber(SCRIPT, 'the ratio', ratioText, 0.01, 0.95);
const sampleCount = checkedNumber(SCRIPT, 'the sample count', samplesText, 1, 4096, true);
const grid = (process.env.GRID ?? '0.2,0.4,0.6,0.8,0.9').split(',').map((text) => checkedNumber(SCRIPT, 'GRID', text, 0.01, 0.95));
const { task, setup, calibSource, calibSeeds } = recipeSettings(SCRIPT);
const { dense, charset, engine } = loadRecipeModel(setup);
const inputName = indexGraph(dense).inputs[0];
const base = { variant: 'deprune-bh', importance: 'obs-greedy', inputShapes: { [inputName]: setup.shape } };

/** Mean over positions of KL(dense || pruned) along the last axis. */
function divergence(denseOut, prunedOut) {
  let total = 0;
  let count = 0;
  for (let s = 0; s < denseOut.length; s++) {
    const p = denseOut[s].data;
    const q = prunedOut[s].data;
    const classes = denseOut[s].shape.at(-1);
    for (let offset = 0; offset < p.length; offset += classes) {
      let kl = 0;
      for (let c = 0; c < classes; c++) {
        const a = p[offset + c];
        if (a > 1e-12) kl += a * Math.log(a / Math.max(q[offset + c], 1e-12));
      }
      total += kl;
      count++;
    }
  }
  return total / count;
}
/** The model's first output on each sample (onnxruntime-node), its session released after. */
async function outputs(model, samples) {
  const out = [];
  for (const sample of samples) {
    const result = await engine.run(model, { [inputName]: sample.tensor });
    out.push(Object.values(result)[0]);
  }
  await engine.release(model);
  return out;
}

await withHeldOutSets(task, setup, { engine, charset }, async (score) => {
  for (const seed of calibSeeds) {
    const samples = calibrationSamples(task, setup, sampleCount, seed, calibSource);
    const { statistics } = await collectStatistics(dense, samples, { engine });
    const denseOut = await outputs(dense, samples);
    const reference = prune(dense, { ...base, ratio, allocation: ALLOCATION_PRESETS['saliency-macs'] }, { statistics });
    const layers = reference.report.layers.map((layer) => ({ name: layer.name, weights: layer.weights, refMacsSaved: layer.macsBefore - layer.macsAfter }));
    const budget = layers.reduce((sum, layer) => sum + layer.refMacsSaved, 0);
    const started = performance.now();
    // D[l][k]: divergence with only layer l pruned at grid[k] and reconstructed; saved MACs measured.
    for (const layer of layers) {
      layer.options = [{ ratio: 0, divergence: 0, saved: 0 }];
      for (const r of grid) {
        // Only this layer: the first matching override wins, and '*' skips every other one.
        const alone = prune(dense, { ...base, allocation: { mode: 'uniform' }, layers: { [layer.name]: { ratio: r }, '*': { skip: true } } }, { statistics });
        const rebuilt = await reconstruct(dense, alone.model, alone.plan, samples, { engine, denseStatistics: statistics });
        const pruned = alone.report.layers[0];
        layer.options.push({ ratio: r, divergence: divergence(denseOut, await outputs(rebuilt.model, samples)), saved: pruned.macsBefore - pruned.macsAfter });
      }
      console.log(`${layer.name} w${layer.weights} ref saved ${(layer.refMacsSaved / 1e6).toFixed(2)}M: ${layer.options.slice(1).map((option) => `${option.ratio}:${option.divergence.toExponential(2)}`).join(' ')}`);
    }
    console.log(`sensitivity ${((performance.now() - started) / 1000).toFixed(0)} s`);
    // Lagrangian: each layer picks argmin D - lambda * saved; bisect lambda (log scale) to meet the budget.
    const cost = (option, lambda) => option.divergence - lambda * option.saved;
    const choose = (lambda) => layers.map((layer) => layer.options.reduce((best, option) => (cost(option, lambda) < cost(best, lambda) ? option : best)));
    let lo = 1e-16;
    let hi = 1e2;
    for (let i = 0; i < 200; i++) {
      const mid = Math.sqrt(lo * hi);
      const saved = choose(mid).reduce((sum, option) => sum + option.saved, 0);
      if (saved >= budget) hi = mid;
      else lo = mid;
    }
    const picks = choose(hi);
    const overrides = Object.fromEntries(layers.map((layer, i) => [layer.name, { ratio: picks[i].ratio }]));
    const chosen = prune(dense, { ...base, ratio, allocation: { mode: 'uniform' }, layers: overrides }, { statistics });
    console.log(`budget ${(budget / 1e6).toFixed(2)}M MACs; picks: ${layers.map((layer, i) => `${layer.name}=${picks[i].ratio}`).join(' ')}`);
    for (const [label, result] of [['saliency-macs', reference], ['sensitivity', chosen]]) {
      const rebuilt = await reconstruct(dense, result.model, result.plan, samples, { engine, denseStatistics: statistics });
      const kl = divergence(denseOut, await outputs(rebuilt.model, samples));
      const [a, b] = await score(rebuilt.model);
      const totals = result.report.totals;
      console.log(`seed ${seed} ${label}: DSConv sparsity ${totals.dsconvSparsity.toFixed(3)} (DW ${totals.dwSparsity.toFixed(3)}, PW ${totals.pwSparsity.toFixed(3)}), MACs ${totals.macsAfter}; KL ${kl.toExponential(3)}; ${(100 * a).toFixed(0)} / ${(100 * b).toFixed(0)}, mean ${(50 * (a + b)).toFixed(1)}`);
    }
  }
});
