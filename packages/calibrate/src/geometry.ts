import { ShapeError } from '@deprune/errors';

/** Where a DW / PW conv reads its input: what `@deprune/onnx`'s LayerInfo says about the window. */
export interface ConvGeometry {
  kernel: readonly [number, number];
  strides: readonly [number, number];
  /** [top, left, bottom, right]. */
  pads: readonly [number, number, number, number];
  dilations: readonly [number, number];
}

export interface InputView {
  /** NCHW float32 data of the layer's input. */
  data: Float32Array;
  shape: readonly number[];
}

export function outputSize(geometry: ConvGeometry, height: number, width: number): [number, number] {
  const [kh, kw] = geometry.kernel;
  const [top, left, bottom, right] = geometry.pads;
  const outHeight = Math.floor((height + top + bottom - geometry.dilations[0] * (kh - 1) - 1) / geometry.strides[0]) + 1;
  const outWidth = Math.floor((width + left + right - geometry.dilations[1] * (kw - 1) - 1) / geometry.strides[1]) + 1;
  return [outHeight, outWidth];
}

export function checkInput(view: InputView, channels: number, layer: string): [number, number, number] {
  const { shape, data } = view;
  if (shape.length !== 4 || shape[1] !== channels || data.length !== shape[0] * shape[1] * shape[2] * shape[3]) {
    throw new ShapeError(`layer '${layer}' expects an NCHW input with ${channels} channels, got [${shape.join(', ')}]`, { node: layer });
  }
  return [shape[0], shape[2], shape[3]];
}

/**
 * The K x (Ho*Wo) patch matrix of one input plane (one channel of one sample) under `geometry`:
 * row k = i * kw + j holds the value tap (i, j) multiplies at every output pixel, 0 in the padding.
 * For a 1x1 window it is the (strided, padded) plane itself.
 */
export function planePatches(plane: Float32Array, height: number, width: number, geometry: ConvGeometry, out: Float32Array): void {
  const [kh, kw] = geometry.kernel;
  const [outHeight, outWidth] = outputSize(geometry, height, width);
  const pixels = outHeight * outWidth;
  const [strideY, strideX] = geometry.strides;
  const [dilationY, dilationX] = geometry.dilations;
  const [top, left] = geometry.pads;
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      const row = (i * kw + j) * pixels;
      for (let oy = 0; oy < outHeight; oy++) {
        const y = oy * strideY - top + i * dilationY;
        const base = row + oy * outWidth;
        if (y < 0 || y >= height) {
          out.fill(0, base, base + outWidth);
          continue;
        }
        const source = y * width;
        for (let ox = 0; ox < outWidth; ox++) {
          const x = ox * strideX - left + j * dilationX;
          out[base + ox] = x >= 0 && x < width ? plane[source + x] : 0;
        }
      }
    }
  }
}

/** True when a 1x1 window reads the input as is (stride 1, no padding): no gather needed. */
export function isIdentityWindow(geometry: ConvGeometry): boolean {
  return (
    geometry.kernel[0] === 1 &&
    geometry.kernel[1] === 1 &&
    geometry.strides[0] === 1 &&
    geometry.strides[1] === 1 &&
    geometry.pads.every((pad) => pad === 0)
  );
}

/**
 * Output pixels a DW channel's patches are taken at: every `step`-th pixel (row-major), starting
 * at `offset`. `step` 1 is every pixel.
 */
export function sampledPixelCount(pixels: number, step: number, offset: number): number {
  return offset >= pixels ? 0 : Math.floor((pixels - 1 - offset) / step) + 1;
}

/**
 * {@link planePatches} at every `step`-th output pixel from `offset` only: a K x count matrix.
 * DW layers see tens of thousands of patches for K (9 or 25) weights per channel; a regular subset
 * estimates the same K x K second moment at a fraction of the cost.
 */
export function sampledPlanePatches(plane: Float32Array, height: number, width: number, geometry: ConvGeometry, step: number, offset: number, out: Float32Array): number {
  const [outHeight, outWidth] = outputSize(geometry, height, width);
  const pixels = outHeight * outWidth;
  if (step === 1 && offset === 0) {
    planePatches(plane, height, width, geometry, out);
    return pixels;
  }
  const count = sampledPixelCount(pixels, step, offset);
  const [kh, kw] = geometry.kernel;
  const [strideY, strideX] = geometry.strides;
  const [dilationY, dilationX] = geometry.dilations;
  const [top, left] = geometry.pads;
  for (let column = 0; column < count; column++) {
    const pixel = offset + column * step;
    const oy = Math.floor(pixel / outWidth);
    const ox = pixel - oy * outWidth;
    for (let i = 0; i < kh; i++) {
      const y = oy * strideY - top + i * dilationY;
      for (let j = 0; j < kw; j++) {
        const x = ox * strideX - left + j * dilationX;
        out[(i * kw + j) * count + column] = y >= 0 && y < height && x >= 0 && x < width ? plane[y * width + x] : 0;
      }
    }
  }
  return count;
}

/**
 * The pixel step that keeps about `vectorsPerTap` patches per tap of a DW channel per sample
 * (`Infinity`: every pixel). 16 per tap and sample is 512 per tap over 32 samples: the K x K
 * moments of a 5x5 channel from 12,800 patches rather than all of them.
 */
export function dwPixelStep(pixels: number, taps: number, vectorsPerTap: number): number {
  if (!Number.isFinite(vectorsPerTap)) return 1;
  return Math.max(1, Math.floor(pixels / Math.max(1, Math.ceil(vectorsPerTap * taps))));
}
