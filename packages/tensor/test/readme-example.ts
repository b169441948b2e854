import {
  createRng,
  randomTensor,
  depthwiseConv2d,
  depthwiseConv2dViaDiagonalBlocks,
  toDiagonalBlocks,
  relativeL2Error,
  resize2d,
  transpose,
} from '../src/index';

const rng = createRng(42);
const x = randomTensor([1, 10, 16, 16], rng, { dtype: 'float32' }); // N, C, H, W
const w = randomTensor([10, 1, 3, 3], rng);                          // C, 1, kh, kw
const params = { strides: [2, 2], pads: [1, 1, 1, 1] } as const;    // pads: top, left, bottom, right

// DR with groups of G = 4 channels: blocks of 4x36, 4x36 and a last 2x18.
console.log(toDiagonalBlocks(w, 4).map((block) => block.matrix.shape));

const direct = depthwiseConv2d(x, w, null, params);
const viaGemms = depthwiseConv2dViaDiagonalBlocks(x, w, 4, null, params);
console.log(direct.shape, relativeL2Error(viaGemms.data, direct.data) < 1e-12);

// The ONNX ops around the convs: data movement keeps the dtype, compute ops answer in float64.
const nhwc = transpose(x, [0, 2, 3, 1]);
const up = resize2d(direct, { outHeight: 16, outWidth: 16, scaleH: 2, scaleW: 2, mode: 'nearest' });
console.log(nhwc.data.constructor.name, nhwc.shape, up.data.constructor.name, up.shape);
