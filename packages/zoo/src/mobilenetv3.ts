import type { OnnxModel } from '@deprune/onnx';
import { makeDivisible, ZooGraph, type Activation, type Feature } from './layers';
import type { ResolvedOptions } from './options';

/** One row of torchvision's bneck table: `InvertedResidualConfig(input, kernel, expanded, out, use_se, activation, stride)`. */
export interface BneckConfig {
  readonly input: number;
  readonly kernel: 3 | 5;
  readonly expanded: number;
  readonly out: number;
  readonly se: boolean;
  readonly activation: 'RE' | 'HS';
  readonly stride: 1 | 2;
}

function bneck(input: number, kernel: 3 | 5, expanded: number, out: number, se: boolean, activation: 'RE' | 'HS', stride: 1 | 2): BneckConfig {
  return { input, kernel, expanded, out, se, activation, stride };
}

/** torchvision `_mobilenet_v3_conf('mobilenet_v3_large')`, width 1.0, no reduced tail, no dilation. */
export const MOBILENET_V3_LARGE_BNECKS: readonly BneckConfig[] = [
  bneck(16, 3, 16, 16, false, 'RE', 1),
  bneck(16, 3, 64, 24, false, 'RE', 2), // C1
  bneck(24, 3, 72, 24, false, 'RE', 1),
  bneck(24, 5, 72, 40, true, 'RE', 2), // C2
  bneck(40, 5, 120, 40, true, 'RE', 1),
  bneck(40, 5, 120, 40, true, 'RE', 1),
  bneck(40, 3, 240, 80, false, 'HS', 2), // C3
  bneck(80, 3, 200, 80, false, 'HS', 1),
  bneck(80, 3, 184, 80, false, 'HS', 1),
  bneck(80, 3, 184, 80, false, 'HS', 1),
  bneck(80, 3, 480, 112, true, 'HS', 1),
  bneck(112, 3, 672, 112, true, 'HS', 1),
  bneck(112, 5, 672, 160, true, 'HS', 2), // C4
  bneck(160, 5, 960, 160, true, 'HS', 1),
  bneck(160, 5, 960, 160, true, 'HS', 1),
];

/** torchvision `_mobilenet_v3_conf('mobilenet_v3_small')`. */
export const MOBILENET_V3_SMALL_BNECKS: readonly BneckConfig[] = [
  bneck(16, 3, 16, 16, true, 'RE', 2), // C1
  bneck(16, 3, 72, 24, false, 'RE', 2), // C2
  bneck(24, 3, 88, 24, false, 'RE', 1),
  bneck(24, 5, 96, 40, true, 'HS', 2), // C3
  bneck(40, 5, 240, 40, true, 'HS', 1),
  bneck(40, 5, 240, 40, true, 'HS', 1),
  bneck(40, 5, 120, 48, true, 'HS', 1),
  bneck(48, 5, 144, 48, true, 'HS', 1),
  bneck(48, 5, 288, 96, true, 'HS', 2), // C4
  bneck(96, 5, 576, 96, true, 'HS', 1),
  bneck(96, 5, 576, 96, true, 'HS', 1),
];

/**
 * torchvision `InvertedResidual` (MobileNetV3): [expand 1x1 conv-BN-act, only when expanded !=
 * input, so the first bneck of both Large and Small has none] -> kxk DW conv-BN-act -> [SE with
 * squeeze = make_divisible(expanded // 4, 8), ReLU inside, HardSigmoid gate] -> 1x1 conv-BN
 * (no activation), plus the input when stride is 1 and channels are unchanged.
 * Module paths: `features.i.block.j`.
 */
function invertedResidual(graph: ZooGraph, module: string, x: Feature, config: BneckConfig): Feature {
  const activation: Activation = config.activation === 'HS' ? 'hardswish' : 'relu';
  let index = 0;
  let y = x;
  if (config.expanded !== config.input) {
    y = graph.convBnAct(`${module}.block.${index++}`, y, { outChannels: config.expanded, kernel: 1 }, activation);
  }
  y = graph.convBnAct(
    `${module}.block.${index++}`,
    y,
    { outChannels: config.expanded, kernel: config.kernel, stride: config.stride, groups: config.expanded },
    activation,
  );
  if (config.se) {
    y = graph.squeezeExcitation(`${module}.block.${index++}`, y, makeDivisible(Math.floor(config.expanded / 4), 8), 'relu', 'hardsigmoid');
  }
  y = graph.convBnAct(`${module}.block.${index++}`, y, { outChannels: config.out, kernel: 1 }, 'none');
  return config.stride === 1 && config.input === config.out ? graph.residual(module, y, x) : y;
}

function buildMobileNetV3(
  name: 'mobilenetv3-small' | 'mobilenetv3-large',
  bnecks: readonly BneckConfig[],
  lastChannel: number,
  options: ResolvedOptions,
): OnnxModel {
  // torchvision: norm_layer = partial(nn.BatchNorm2d, eps=0.001, momentum=0.01)
  const graph = new ZooGraph({ ...options, name, epsilon: 1e-3 });
  let x = graph.convBnAct('features.0', graph.input(), { outChannels: bnecks[0].input, kernel: 3, stride: 2 }, 'hardswish');
  bnecks.forEach((config, index) => {
    x = invertedResidual(graph, `features.${index + 1}`, x, config);
  });
  const lastConvChannels = 6 * bnecks[bnecks.length - 1].out;
  x = graph.convBnAct(`features.${bnecks.length + 1}`, x, { outChannels: lastConvChannels, kernel: 1 }, 'hardswish');
  // classifier = Linear(576|960, 1024|1280), Hardswish, Dropout(0.2) (omitted), Linear(-, classes)
  let y = graph.linear('classifier.0', graph.poolAndFlatten(x), makeDivisible(lastChannel, 8));
  y = graph.activation('classifier.1', y, 'hardswish');
  graph.logits('classifier.3', y);
  return graph.build();
}

/** torchvision `mobilenet_v3_small()`: 2,542,856 parameters, BN eps 1e-3. */
export function buildMobileNetV3Small(options: ResolvedOptions): OnnxModel {
  return buildMobileNetV3('mobilenetv3-small', MOBILENET_V3_SMALL_BNECKS, 1024, options);
}

/** torchvision `mobilenet_v3_large()`: 5,483,032 parameters, BN eps 1e-3. */
export function buildMobileNetV3Large(options: ResolvedOptions): OnnxModel {
  return buildMobileNetV3('mobilenetv3-large', MOBILENET_V3_LARGE_BNECKS, 1280, options);
}
