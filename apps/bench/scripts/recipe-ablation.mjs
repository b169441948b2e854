#!/usr/bin/env node
// One-shot recipe variants of PP-OCRv4 rec (or ppocr cls with MODEL=ppocr-cls), scored on the held-out
// text sources: DEPrune-BH at one ratio, OBS + saliency-macs + reconstruction (the CLI's recipe), with
// one setting changed per run.
// Calibration: N samples (default 32) of @deprune/textdata's CALIBRATION_SOURCE (CALIB_SOURCE=name: another source),
// seed 7 (CALIB_SEED=s: another set, or several as s1,s2,...: one line per set and their mean); evaluation:
// 100 lines each of liberation-skia and freefont-outline, seed 1000 (the accuracy suite's sets);
// onnxruntime-node runs every forward pass. Deterministic: a run repeats to the last line.
// Usage: [MODEL=ppocr-cls] node apps/bench/scripts/recipe-ablation.mjs '{"label": {prune config overrides, "damping": D}, ...}' [ratio] [samples]
// Run options besides the prune config's: "damping" (reconstruction), "biasCorrection": "plan" (the pruned
// layers' biases, after reconstruction) or "all" (every Conv from the first pruned layer on); "sequential":
// "inputs" or "refit" (each layer's masks re-chosen during reconstruction from its input in the pruned network);
// "activation": "derivative" or "active" (DW reconstruction targets weighted through the following activation),
// "activationLayers": "all" (PW layers too, one pixel weight per pixel: the mean over the layer's rows).
import { collectStatistics, correctBiases, reconstruct, sequentialRemask } from '@deprune/calibrate';
import { indexGraph } from '@deprune/onnx';
import { ALLOCATION_PRESETS, prune } from '@deprune/pipeline';
import { calibrationSamples, checkedNumber, loadRecipeModel, recipeSettings, refuse, withHeldOutSets } from './lib/held-out.mjs';

const SCRIPT = 'recipe-ablation';
const [runsText = '{"recipe": {}}', ratioText = '0.5', samplesText = '32'] = process.argv.slice(2);
let runs;
try {
  runs = JSON.parse(runsText);
} catch (error) {
  refuse(SCRIPT, `the runs must be a JSON object of label: settings, got '${runsText.slice(0, 80)}' (${error.message})`);
}
if (runs === null || typeof runs !== 'object' || Array.isArray(runs)) refuse(SCRIPT, `the runs must be a JSON object of label: settings, got '${runsText.slice(0, 80)}'`);
const ratio = checkedNumber(SCRIPT, 'the ratio', ratioText, 0, 0.99);
const sampleCount = checkedNumber(SCRIPT, 'the sample count', samplesText, 1, 4096, true);
const { task, setup, calibSource, calibSeeds } = recipeSettings(SCRIPT);
const { dense, charset, engine } = loadRecipeModel(setup);
const inputShapes = { [indexGraph(dense).inputs[0]]: setup.shape };

await withHeldOutSets(task, setup, { engine, charset }, async (score) => {
  /** Held-out means per run label, one per calibration set. */
  const means = new Map();
  for (const calibSeed of calibSeeds) {
    const samples = calibrationSamples(task, setup, sampleCount, calibSeed, calibSource);
    const { statistics } = await collectStatistics(dense, samples, { engine });
    console.log(`${setup.label}, DEPrune-BH r = ${ratioText}, ${samples.length} ${calibSource} samples (seed ${calibSeed}); held-out ${setup.metricLabel} (%): liberation-skia / freefont-outline, mean`);
    for (const [label, { damping, allocation, biasCorrection, sequential, activation, activationLayers, ...overrides }] of Object.entries(runs)) {
      const config = { variant: 'deprune-bh', ratio, importance: 'obs', inputShapes, ...overrides, allocation: { ...ALLOCATION_PRESETS['saliency-macs'], ...allocation } };
      const pruned = prune(dense, config, { statistics });
      const started = performance.now();
      const remask = sequential === undefined ? {} : { remask: sequentialRemask(dense, { importance: pruned.plan.config.importance, mode: sequential }) };
      const rebuilt = await reconstruct(dense, pruned.model, pruned.plan, samples, { engine, denseStatistics: statistics, ...remask, ...(activation === undefined ? {} : { activationWeighting: activation }), ...(activationLayers === undefined ? {} : { activationLayers }), ...(damping === undefined ? {} : { damping }) });
      let final = rebuilt.model;
      if (process.env.LAYERS) for (const layer of rebuilt.report.layers) console.log(`  ${layer.name} ${layer.kind} rows ${layer.rows} kept ${layer.keptWeights} error ${layer.errorBefore.toFixed(3)} -> ${layer.errorAfter.toFixed(3)}${layer.remasked === undefined ? '' : ` moved ${layer.remasked}`}${layer.activation === undefined ? '' : ` through ${layer.activation}`}`);
      let note = `recon ${((performance.now() - started) / 1000).toFixed(1)} s, layer error ${rebuilt.report.meanErrorBefore.toFixed(3)} -> ${rebuilt.report.meanErrorAfter.toFixed(3)}`;
      if (activation !== undefined) note += `; activation (${activation}) on ${rebuilt.report.layers.filter((layer) => layer.activation !== undefined).length} layers`;
      if (sequential !== undefined) {
        const moved = rebuilt.report.layers.reduce((sum, layer) => sum + (layer.remasked ?? 0), 0);
        const kept = rebuilt.report.layers.reduce((sum, layer) => sum + layer.keptWeights, 0);
        note += `; sequential (${sequential}) moved ${moved} of ${kept} kept weights`;
      }
      if (biasCorrection !== undefined) {
        const names = pruned.plan.layers.map((layer) => layer.name);
        const biasStarted = performance.now();
        const corrected = await correctBiases(dense, final, samples, { engine, ...(biasCorrection === 'plan' ? { layers: names } : { after: names }) });
        final = corrected.model;
        const moved = corrected.report.layers;
        const mean = (field) => moved.reduce((sum, layer) => sum + layer[field], 0) / Math.max(1, moved.length);
        note += `; bias (${biasCorrection}) ${moved.length} convs, ${corrected.report.passes} passes, ${((performance.now() - biasStarted) / 1000).toFixed(1)} s, mean rms shift ${mean('rmsShift').toExponential(2)}, mean MSE ${mean('errorBefore').toExponential(3)} -> ${mean('errorAfter').toExponential(3)}`;
      }
      const [a, b] = await score(final);
      const totals = pruned.report.totals;
      console.log(`${label}: DSConv sparsity ${totals.dsconvSparsity.toFixed(3)} (DW ${totals.dwSparsity.toFixed(3)}, PW ${totals.pwSparsity.toFixed(3)}); ${(100 * a).toFixed(0)} / ${(100 * b).toFixed(0)}, mean ${(50 * (a + b)).toFixed(1)} [${note}]`);
      means.set(label, [...(means.get(label) ?? []), 50 * (a + b)]);
    }
  }
  if (calibSeeds.length > 1) {
    console.log(`mean over the ${calibSeeds.length} calibration sets (seeds ${calibSeeds.join(', ')}):`);
    for (const [label, values] of means) console.log(`${label}: ${(values.reduce((sum, value) => sum + value, 0) / values.length).toFixed(1)} (${values.map((value) => value.toFixed(1)).join(' / ')})`);
  }
});
