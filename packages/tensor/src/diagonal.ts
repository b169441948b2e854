import { ShapeError } from '@deprune/errors';
import ndarray from 'ndarray';
import { assertPositiveInteger, assertRank, formatShape } from './checks';
import { checkBias, convOutputSize, resolveConvParams, type Conv2dParams } from './conv';
import { matmul } from './gemm';
import { im2col } from './im2col';
import { tensor, zerosFloat64, type Tensor } from './tensor';

/**
 * Diagonal-wise refactorization (DR, method.md section 1). A DW conv over C channels becomes one
 * small GEMM per group of G channels: block W_g is Gg x (Gg*K), K = kh*kw, with
 * W_g[i, i*K + k] = w[g*G + i, k] and zeros elsewhere, and Y_g = W_g * im2col(X_g).
 * Every column of W_g holds exactly one weight, which is why pruning DW weights one by one is
 * column-structured sparsity of the sub-GEMMs. The last group has C - g*G channels when G does
 * not divide C.
 */
export interface DiagonalBlock {
  /** 0-based group index g. */
  readonly group: number;
  /** g * G: the DW channel that row 0 of the block belongs to. */
  readonly firstChannel: number;
  /** Gg: G, or fewer for the last group. */
  readonly channels: number;
  /** Gg x (Gg*K), non-zero only on the block diagonal. */
  readonly matrix: Tensor<Float64Array>;
}

/**
 * The block's diagonal as a strided [Gg, K] view: entry (i, k) is W_g[i, i*K + k], at flat offset
 * i*(Gg*K) + i*K + k, i.e. row stride Gg*K + K. Reading and writing the DR layout through this view
 * keeps the index formula in one place.
 */
function diagonalView(matrix: Float64Array, channels: number, kernelArea: number): ndarray.NdArray<Float64Array> {
  return ndarray(matrix, [channels, kernelArea], [channels * kernelArea + kernelArea, 1], 0);
}

export function toDiagonalBlocks(dwWeight: Tensor, groupSize: number): DiagonalBlock[] {
  assertRank('DW weight', dwWeight.shape, 4, 'C, 1, kh, kw');
  const [channels, perGroup, kernelH, kernelW] = dwWeight.shape;
  if (perGroup !== 1) {
    throw new ShapeError(`DW weight must be [C, 1, kh, kw] (one input channel per output channel), got ${formatShape(dwWeight.shape)}`);
  }
  assertPositiveInteger('DR group size G', groupSize);
  const kernelArea = kernelH * kernelW;
  const weights = ndarray(dwWeight.data, [channels, kernelArea]);
  const blocks: DiagonalBlock[] = [];
  for (let firstChannel = 0, group = 0; firstChannel < channels; firstChannel += groupSize, group++) {
    const blockChannels = Math.min(groupSize, channels - firstChannel);
    const matrix = zerosFloat64([blockChannels, blockChannels * kernelArea]);
    const diagonal = diagonalView(matrix.data, blockChannels, kernelArea);
    for (let i = 0; i < blockChannels; i++) {
      for (let k = 0; k < kernelArea; k++) diagonal.set(i, k, weights.get(firstChannel + i, k));
    }
    blocks.push({ group, firstChannel, channels: blockChannels, matrix });
  }
  return blocks;
}

/**
 * Inverse of toDiagonalBlocks: reads the diagonals back into a [C, 1, kh, kw] weight. The blocks
 * must be the groups 0, 1, ... in order, of equal size except a smaller last one, and have zeros
 * off the diagonal pattern; anything else means the blocks were not produced by DR (or were
 * corrupted), and silently dropping the stray values would hide that.
 */
export function fromDiagonalBlocks(blocks: readonly DiagonalBlock[], kernel: readonly [number, number]): Tensor<Float64Array> {
  if (!Array.isArray(kernel) || kernel.length !== 2) {
    throw new ShapeError(`fromDiagonalBlocks kernel must be [kh, kw], got ${JSON.stringify(kernel)}`);
  }
  const [kernelH, kernelW] = kernel;
  assertPositiveInteger('kernel height', kernelH);
  assertPositiveInteger('kernel width', kernelW);
  const kernelArea = kernelH * kernelW;
  const groupSize = blocks.length > 0 ? blocks[0].channels : 0;
  let channels = 0;
  blocks.forEach((block, position) => {
    if (block.group !== position || block.firstChannel !== channels) {
      throw new ShapeError(
        `DR block ${position} must be group ${position} starting at channel ${channels}, got group ${block.group} starting at channel ${block.firstChannel}`,
      );
    }
    const isLast = position === blocks.length - 1;
    if (!Number.isInteger(block.channels) || block.channels < 1 || block.channels > groupSize || (!isLast && block.channels !== groupSize)) {
      throw new ShapeError(
        `DR block ${position} has ${block.channels} channels; every block must have G = ${groupSize} channels except a smaller last one`,
      );
    }
    const expectedShape = [block.channels, block.channels * kernelArea];
    if (block.matrix.shape.length !== 2 || block.matrix.shape[0] !== expectedShape[0] || block.matrix.shape[1] !== expectedShape[1]) {
      throw new ShapeError(
        `DR block ${position} matrix must be ${formatShape(expectedShape)} (channels x channels*kh*kw for kernel ${kernelH}x${kernelW}), got ${formatShape(block.matrix.shape)}`,
      );
    }
    channels += block.channels;
  });

  const weight = zerosFloat64([channels, 1, kernelH, kernelW]);
  const weights = ndarray(weight.data, [channels, kernelArea]);
  for (const block of blocks) {
    const width = block.channels * kernelArea;
    const values = block.matrix.data;
    for (let row = 0; row < block.channels; row++) {
      for (let column = 0; column < width; column++) {
        const value = values[row * width + column];
        const owner = Math.floor(column / kernelArea);
        if (owner === row) {
          weights.set(block.firstChannel + row, column % kernelArea, value);
        } else if (value !== 0) {
          throw new ShapeError(
            `DR block ${block.group} has ${value} at row ${row}, column ${column}, off its diagonal pattern (column ${column} belongs to row ${owner}); a DR block holds only W_g[i, i*K + k]`,
          );
        }
      }
    }
  }
  return weight;
}

/**
 * DW conv computed the DR way, as a GPU would: per image and group, unfold the group's channels
 * with im2col and multiply by the block. Equal to depthwiseConv2d up to float64 rounding.
 */
export function depthwiseConv2dViaDiagonalBlocks(
  x: Tensor,
  dwWeight: Tensor,
  groupSize: number,
  bias?: Tensor | null,
  params?: Omit<Conv2dParams, 'group'>,
): Tensor<Float64Array> {
  assertRank('DW input', x.shape, 4, 'N, C, H, W');
  const [batch, channels, height, width] = x.shape;
  assertRank('DW weight', dwWeight.shape, 4, 'C, 1, kh, kw');
  if (dwWeight.shape[0] !== channels) {
    throw new ShapeError(`DW weight must have ${channels} channels for input ${formatShape(x.shape)}, got ${formatShape(dwWeight.shape)}`);
  }
  const checkedBias = checkBias(bias, channels, 'depthwiseConv2dViaDiagonalBlocks');
  const blocks = toDiagonalBlocks(dwWeight, groupSize);
  const kernel: [number, number] = [dwWeight.shape[2], dwWeight.shape[3]];
  const p = resolveConvParams({ ...params, group: 1 });
  const outHeight = convOutputSize('height', height, kernel[0], p.padTop, p.padBottom, p.dilationH, p.strideH);
  const outWidth = convOutputSize('width', width, kernel[1], p.padLeft, p.padRight, p.dilationW, p.strideW);
  const planeIn = height * width;
  const planeOut = outHeight * outWidth;
  const output = zerosFloat64([batch, channels, outHeight, outWidth]);

  for (let n = 0; n < batch; n++) {
    for (const block of blocks) {
      // NCHW keeps a group's channels contiguous, so X_g is a subarray, not a copy.
      const groupStart = (n * channels + block.firstChannel) * planeIn;
      const groupInput = tensor(x.data.subarray(groupStart, groupStart + block.channels * planeIn), [block.channels, height, width]);
      const groupOutput = matmul(block.matrix, im2col(groupInput, kernel, params)).data;
      output.data.set(groupOutput, (n * channels + block.firstChannel) * planeOut);
    }
  }
  if (checkedBias) {
    for (let n = 0; n < batch; n++) {
      for (let c = 0; c < channels; c++) {
        const base = (n * channels + c) * planeOut;
        for (let position = 0; position < planeOut; position++) output.data[base + position] += checkedBias.data[c];
      }
    }
  }
  return output;
}
