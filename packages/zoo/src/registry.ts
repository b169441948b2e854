import { UsageError } from '@deprune/errors';
import type { OnnxModel } from '@deprune/onnx';
import { buildEfficientNetB0 } from './efficientnet';
import { buildMobileNetV2 } from './mobilenetv2';
import { buildMobileNetV3Large, buildMobileNetV3Small } from './mobilenetv3';
import { resolveOptions, type ResolvedOptions, type ZooBuildOptions } from './options';
import { foldIfAsked } from './fold';

export type ZooModelName = 'mobilenetv2' | 'mobilenetv3-small' | 'mobilenetv3-large' | 'efficientnet-b0';

export interface ZooModelInfo {
  readonly name: ZooModelName;
  readonly title: string;
  /** torchvision's `num_params` for the model with 1000 classes (BN weight and bias included). */
  readonly publishedParams: number;
  /** The torchvision builder whose module layout the graph reproduces. */
  readonly reference: string;
}

export const zooModels: readonly ZooModelInfo[] = Object.freeze([
  { name: 'mobilenetv2', title: 'MobileNetV2 1.0', publishedParams: 3_504_872, reference: 'torchvision mobilenet_v2' },
  { name: 'mobilenetv3-small', title: 'MobileNetV3-Small', publishedParams: 2_542_856, reference: 'torchvision mobilenet_v3_small' },
  { name: 'mobilenetv3-large', title: 'MobileNetV3-Large', publishedParams: 5_483_032, reference: 'torchvision mobilenet_v3_large' },
  { name: 'efficientnet-b0', title: 'EfficientNet-B0', publishedParams: 5_288_548, reference: 'torchvision efficientnet_b0' },
].map((info) => Object.freeze(info as ZooModelInfo)));

const builders: Readonly<Record<ZooModelName, (options: ResolvedOptions) => OnnxModel>> = {
  mobilenetv2: buildMobileNetV2,
  'mobilenetv3-small': buildMobileNetV3Small,
  'mobilenetv3-large': buildMobileNetV3Large,
  'efficientnet-b0': buildEfficientNetB0,
};

/**
 * Builds one zoo model: input `input` [N, 3, 224, 224], output `logits` [N, numClasses],
 * opset 13, seeded weights, BatchNormalization kept unless `foldBatchNorm` is set.
 */
export function buildZooModel(name: ZooModelName, options: ZooBuildOptions = {}): OnnxModel {
  const build = Object.hasOwn(builders, name) ? builders[name] : undefined;
  if (!build) {
    throw new UsageError(`unknown zoo model '${String(name)}'`, {
      hint: `choose one of ${zooModels.map((info) => info.name).join(', ')}`,
    });
  }
  const resolved = resolveOptions(options);
  return foldIfAsked(build(resolved), resolved.foldBatchNorm);
}
