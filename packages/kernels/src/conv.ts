import { conv2dOutputShape, type Conv2dParams } from '@deprune/tensor';
import type { Activation } from './activation';

/** Attributes of the conv kernels (ONNX `Conv` semantics, explicit pads only). */
export interface ConvAttrs {
  /** [strideH, strideW], default [1, 1]. */
  strides?: readonly [number, number];
  /** ONNX order [top, left, bottom, right], default [0, 0, 0, 0]. */
  pads?: readonly [number, number, number, number];
  /** [dilationH, dilationW], default [1, 1]. */
  dilations?: readonly [number, number];
  /** Fused epilogue after the bias. Default none. */
  activation?: Activation;
}

/** Everything a conv kernel bakes into its constants, plus the NCHW output shape. */
export interface ConvGeometry {
  batch: number;
  inChannels: number;
  height: number;
  width: number;
  outChannels: number;
  kernelH: number;
  kernelW: number;
  outHeight: number;
  outWidth: number;
  strideH: number;
  strideW: number;
  padTop: number;
  padLeft: number;
  padBottom: number;
  padRight: number;
  dilationH: number;
  dilationW: number;
  outputShape: [number, number, number, number];
}

/**
 * Checks shapes and attributes with @deprune/tensor's reference rules (so the kernels and the
 * oracle agree on what is valid and on the output size) and returns the resolved numbers.
 */
export function convGeometry(inputShape: readonly number[], weightShape: readonly number[], attrs: ConvAttrs & { group?: number }): ConvGeometry {
  const params: Conv2dParams = { strides: attrs.strides, pads: attrs.pads, dilations: attrs.dilations, group: attrs.group };
  const [batch, outChannels, outHeight, outWidth] = conv2dOutputShape(inputShape, weightShape, params);
  const [, inChannels, height, width] = inputShape;
  const [, , kernelH, kernelW] = weightShape;
  const [strideH, strideW] = attrs.strides ?? [1, 1];
  const [padTop, padLeft, padBottom, padRight] = attrs.pads ?? [0, 0, 0, 0];
  const [dilationH, dilationW] = attrs.dilations ?? [1, 1];
  return {
    batch,
    inChannels,
    height,
    width,
    outChannels,
    kernelH,
    kernelW,
    outHeight,
    outWidth,
    strideH,
    strideW,
    padTop,
    padLeft,
    padBottom,
    padRight,
    dilationH,
    dilationW,
    outputShape: [batch, outChannels, outHeight, outWidth],
  };
}
