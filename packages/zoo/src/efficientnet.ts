import type { OnnxModel } from '@deprune/onnx';
import { makeDivisible, ZooGraph, type Feature } from './layers';
import type { ResolvedOptions } from './options';

/** One stage of torchvision's `MBConvConfig` table: expand ratio, kernel, first stride, in, out, layers. */
export interface MBConvStage {
  readonly expandRatio: number;
  readonly kernel: 3 | 5;
  readonly stride: 1 | 2;
  readonly input: number;
  readonly out: number;
  readonly layers: number;
}

/** torchvision `_efficientnet_conf('efficientnet_b0')` (width 1.0, depth 1.0). */
export const EFFICIENTNET_B0_STAGES: readonly MBConvStage[] = [
  { expandRatio: 1, kernel: 3, stride: 1, input: 32, out: 16, layers: 1 },
  { expandRatio: 6, kernel: 3, stride: 2, input: 16, out: 24, layers: 2 },
  { expandRatio: 6, kernel: 5, stride: 2, input: 24, out: 40, layers: 2 },
  { expandRatio: 6, kernel: 3, stride: 2, input: 40, out: 80, layers: 3 },
  { expandRatio: 6, kernel: 5, stride: 1, input: 80, out: 112, layers: 3 },
  { expandRatio: 6, kernel: 5, stride: 2, input: 112, out: 192, layers: 4 },
  { expandRatio: 6, kernel: 3, stride: 1, input: 192, out: 320, layers: 1 },
];

/**
 * torchvision `MBConv`: [expand 1x1 conv-BN-SiLU when the expanded width differs, i.e. not in
 * stage 1] -> kxk DW conv-BN-SiLU -> SE (squeeze = max(1, block input channels // 4), SiLU
 * inside, Sigmoid gate) -> 1x1 conv-BN, plus the input when stride is 1 and channels are
 * unchanged (stochastic depth is the identity at inference). Module paths: `features.s.b.block.j`.
 */
function mbconv(graph: ZooGraph, module: string, x: Feature, out: number, kernel: 3 | 5, stride: number, expandRatio: number): Feature {
  const expanded = makeDivisible(x.channels * expandRatio, 8);
  let index = 0;
  let y = x;
  if (expanded !== x.channels) y = graph.convBnAct(`${module}.block.${index++}`, y, { outChannels: expanded, kernel: 1 }, 'silu');
  y = graph.convBnAct(`${module}.block.${index++}`, y, { outChannels: expanded, kernel, stride, groups: expanded }, 'silu');
  y = graph.squeezeExcitation(`${module}.block.${index++}`, y, Math.max(1, Math.floor(x.channels / 4)), 'silu', 'sigmoid');
  y = graph.convBnAct(`${module}.block.${index++}`, y, { outChannels: out, kernel: 1 }, 'none');
  return stride === 1 && x.channels === out ? graph.residual(module, y, x) : y;
}

/**
 * torchvision `efficientnet_b0()`: 5,288,548 parameters. BN eps is 1e-5: torchvision builds
 * B0-B4 with plain `nn.BatchNorm2d` (only B5-B7 and V2 pass eps=1e-3).
 */
export function buildEfficientNetB0(options: ResolvedOptions): OnnxModel {
  const graph = new ZooGraph({ ...options, name: 'efficientnet-b0', epsilon: 1e-5 });
  const stages = EFFICIENTNET_B0_STAGES.map((stage) => ({ ...stage, input: makeDivisible(stage.input, 8), out: makeDivisible(stage.out, 8) }));
  let x = graph.convBnAct('features.0', graph.input(), { outChannels: stages[0].input, kernel: 3, stride: 2 }, 'silu');
  stages.forEach((stage, stageIndex) => {
    for (let layer = 0; layer < stage.layers; layer++) {
      x = mbconv(graph, `features.${stageIndex + 1}.${layer}`, x, stage.out, stage.kernel, layer === 0 ? stage.stride : 1, stage.expandRatio);
    }
  });
  const lastConvChannels = 4 * stages[stages.length - 1].out;
  x = graph.convBnAct(`features.${stages.length + 1}`, x, { outChannels: lastConvChannels, kernel: 1 }, 'silu');
  // classifier = Dropout(0.2) (omitted at inference), Linear(1280, classes)
  graph.logits('classifier.1', graph.poolAndFlatten(x));
  return graph.build();
}
