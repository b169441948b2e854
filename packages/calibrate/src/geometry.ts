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
