import type { OnnxModel } from '@deprune/onnx';
import { makeDivisible, ZooGraph, type Feature } from './layers';
import type { ResolvedOptions } from './options';

/** torchvision's `inverted_residual_setting` for MobileNetV2: expand ratio t, channels c, repeats n, first stride s. */
export const MOBILENET_V2_SETTINGS: readonly { t: number; c: number; n: number; s: number }[] = [
  { t: 1, c: 16, n: 1, s: 1 },
  { t: 6, c: 24, n: 2, s: 2 },
  { t: 6, c: 32, n: 3, s: 2 },
  { t: 6, c: 64, n: 4, s: 2 },
  { t: 6, c: 96, n: 3, s: 1 },
  { t: 6, c: 160, n: 3, s: 2 },
  { t: 6, c: 320, n: 1, s: 1 },
];

/**
 * torchvision `InvertedResidual` (MobileNetV2): [expand 1x1 conv-BN-ReLU6 when t != 1] ->
 * 3x3 DW conv-BN-ReLU6 -> linear 1x1 projection conv -> BN, plus the input when stride is 1
 * and the channel count is unchanged. Module paths: `features.i.conv.{0,1,2,3}`.
 */
function invertedResidual(graph: ZooGraph, module: string, x: Feature, out: number, stride: number, expandRatio: number): Feature {
  const hidden = Math.round(x.channels * expandRatio);
  let index = 0;
  let y = x;
  if (expandRatio !== 1) y = graph.convBnAct(`${module}.conv.${index++}`, y, { outChannels: hidden, kernel: 1 }, 'relu6');
  y = graph.convBnAct(`${module}.conv.${index++}`, y, { outChannels: hidden, kernel: 3, stride, groups: hidden }, 'relu6');
  y = graph.conv(`${module}.conv.${index++}`, y, { inChannels: hidden, outChannels: out, kernel: 1 });
  y = graph.batchNorm(`${module}.conv.${index++}`, y);
  return stride === 1 && x.channels === out ? graph.residual(module, y, x) : y;
}

/** torchvision `mobilenet_v2()` (width 1.0): 3,504,872 parameters, BN eps 1e-5. */
export function buildMobileNetV2(options: ResolvedOptions): OnnxModel {
  const graph = new ZooGraph({ ...options, name: 'mobilenetv2', epsilon: 1e-5 });
  const inputChannels = makeDivisible(32, 8);
  const lastChannels = makeDivisible(1280, 8);
  let x = graph.convBnAct('features.0', graph.input(), { outChannels: inputChannels, kernel: 3, stride: 2 }, 'relu6');
  let index = 1;
  for (const { t, c, n, s } of MOBILENET_V2_SETTINGS) {
    const out = makeDivisible(c, 8);
    for (let repeat = 0; repeat < n; repeat++) {
      x = invertedResidual(graph, `features.${index++}`, x, out, repeat === 0 ? s : 1, t);
    }
  }
  x = graph.convBnAct(`features.${index}`, x, { outChannels: lastChannels, kernel: 1 }, 'relu6');
  // classifier = Dropout(0.2) (omitted at inference), Linear(1280, classes)
  graph.logits('classifier.1', graph.poolAndFlatten(x));
  return graph.build();
}
