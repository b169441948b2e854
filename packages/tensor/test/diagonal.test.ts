import { ShapeError, UsageError } from '@deprune/errors';
import { describe, expect, it } from 'vitest';
import {
  createRng,
  depthwiseConv2d,
  depthwiseConv2dViaDiagonalBlocks,
  fromDiagonalBlocks,
  maxAbsDifference,
  randomTensor,
  relativeL2Error,
  tensor,
  toDiagonalBlocks,
  type Conv2dParams,
  type DiagonalBlock,
} from '../src/index';

const range = (count: number, start = 0): number[] => Array.from({ length: count }, (_, index) => start + index);

describe('DR blocks, hand-checked', () => {
  // 3 channels, 2x2 kernel (K = 4), G = 2: a full 2-channel block and a 1-channel last block.
  const weight = tensor(Float64Array.from(range(12, 1)), [3, 1, 2, 2]);

  it('lays each channel on the block diagonal', () => {
    const blocks = toDiagonalBlocks(weight, 2);
    expect(blocks.map(({ group, firstChannel, channels }) => ({ group, firstChannel, channels }))).toEqual([
      { group: 0, firstChannel: 0, channels: 2 },
      { group: 1, firstChannel: 2, channels: 1 },
    ]);
    expect(blocks[0].matrix.shape).toEqual([2, 8]);
    expect(Array.from(blocks[0].matrix.data)).toEqual([
      ...[1, 2, 3, 4, 0, 0, 0, 0],
      ...[0, 0, 0, 0, 5, 6, 7, 8],
    ]);
    expect(blocks[1].matrix.shape).toEqual([1, 4]);
    expect(Array.from(blocks[1].matrix.data)).toEqual([9, 10, 11, 12]);
  });

  it('has exactly one non-zero per column (what makes DW pruning column-structured)', () => {
    for (const block of toDiagonalBlocks(randomTensor([7, 1, 3, 3], createRng(5)), 3)) {
      const [rows, cols] = block.matrix.shape;
      for (let column = 0; column < cols; column++) {
        let nonZeros = 0;
        for (let row = 0; row < rows; row++) if (block.matrix.data[row * cols + column] !== 0) nonZeros++;
        expect(nonZeros).toBe(1);
      }
    }
  });

  it('reads the blocks back, and refuses a value off the diagonal pattern', () => {
    const blocks = toDiagonalBlocks(weight, 2);
    expect(Array.from(fromDiagonalBlocks(blocks, [2, 2]).data)).toEqual(range(12, 1));
    const corrupted = Float64Array.from(blocks[0].matrix.data);
    corrupted[5] = 0.5; // row 0, column 5 belongs to row 1
    const bad: DiagonalBlock[] = [{ ...blocks[0], matrix: tensor(corrupted, [2, 8]) }, blocks[1]];
    expect(() => fromDiagonalBlocks(bad, [2, 2])).toThrow(ShapeError);
    expect(() => fromDiagonalBlocks(bad, [2, 2])).toThrow(/DR block 0 has 0.5 at row 0, column 5, off its diagonal pattern/);
  });

  it('rejects blocks that do not come from DR, and bad group sizes', () => {
    const blocks = toDiagonalBlocks(weight, 2);
    expect(() => fromDiagonalBlocks([blocks[1], blocks[0]], [2, 2])).toThrow(/DR block 0 must be group 0 starting at channel 0/);
    expect(() => fromDiagonalBlocks(blocks, [1, 4])).not.toThrow(); // same K, other kernel shape: legal
    expect(() => fromDiagonalBlocks(blocks, [3, 3])).toThrow(/matrix must be \[2, 18\]/);
    const uneven = toDiagonalBlocks(tensor(Float64Array.from(range(12)), [3, 1, 2, 2]), 1);
    expect(() => fromDiagonalBlocks([...toDiagonalBlocks(weight, 2).slice(0, 1), { ...uneven[2], group: 1, firstChannel: 2 }, { ...uneven[2], group: 2, firstChannel: 3 }], [2, 2])).toThrow(
      /every block must have G = 2 channels except a smaller last one/,
    );
    expect(() => toDiagonalBlocks(weight, 0)).toThrow(UsageError);
    expect(() => toDiagonalBlocks(weight, 1.5)).toThrow(/DR group size G must be a positive integer, got 1.5/);
    expect(() => toDiagonalBlocks(tensor(new Float64Array(12), [3, 2, 2]), 2)).toThrow(/DW weight must be rank 4/);
    expect(() => toDiagonalBlocks(tensor(new Float64Array(12), [3, 2, 2, 1]), 2)).toThrow(/one input channel per output channel/);
  });
});

describe('DR properties on random weights', () => {
  it('fromDiagonalBlocks inverts toDiagonalBlocks for many C, G and kernels', () => {
    const rng = createRng(21);
    for (let trial = 0; trial < 40; trial++) {
      const channels = 1 + rng.int(40);
      const groupSize = 1 + rng.int(channels + 3); // includes G > C (one partial group)
      const kernel: [number, number] = [1 + rng.int(5), 1 + rng.int(5)];
      const weight = randomTensor([channels, 1, ...kernel], rng, { dtype: trial % 2 === 0 ? 'float32' : 'float64' });
      const blocks = toDiagonalBlocks(weight, groupSize);
      expect(blocks.length).toBe(Math.ceil(channels / groupSize));
      expect(blocks.at(-1)?.channels).toBe(channels - (blocks.length - 1) * groupSize);
      const restored = fromDiagonalBlocks(blocks, kernel);
      expect(restored.shape).toEqual(weight.shape);
      expect(Array.from(restored.data)).toEqual(Array.from(weight.data));
    }
  });

  const cases: { name: string; input: number[]; kernel: [number, number]; groupSize: number; params: Omit<Conv2dParams, 'group'> }[] = [
    { name: 'C=13 not a multiple of G=4, 3x3, stride 2', input: [2, 13, 9, 10], kernel: [3, 3], groupSize: 4, params: { strides: [2, 2], pads: [1, 1, 1, 1] } },
    { name: '5x5, asymmetric pads, stride (2,1)', input: [1, 10, 11, 9], kernel: [5, 5], groupSize: 3, params: { strides: [2, 1], pads: [2, 1, 0, 2] } },
    { name: '1xN input, stride (1,2)', input: [1, 6, 1, 21], kernel: [3, 3], groupSize: 4, params: { strides: [1, 2], pads: [1, 1, 1, 0] } },
    { name: 'G larger than C, dilation 2', input: [1, 5, 10, 10], kernel: [3, 3], groupSize: 8, params: { dilations: [2, 2], pads: [2, 2, 2, 2] } },
    { name: 'G = 1, 3x1 kernel, no padding', input: [3, 4, 6, 5], kernel: [3, 1], groupSize: 1, params: {} },
  ];

  it.each(cases.map((c) => [c.name, c] as const))('depthwiseConv2dViaDiagonalBlocks equals depthwiseConv2d: %s', (_name, c) => {
    const rng = createRng(22);
    const channels = c.input[1];
    const x = randomTensor(c.input, rng, { dtype: 'float32' });
    const weight = randomTensor([channels, 1, ...c.kernel], rng);
    const bias = randomTensor([channels], rng);
    const direct = depthwiseConv2d(x, weight, bias, c.params);
    const viaBlocks = depthwiseConv2dViaDiagonalBlocks(x, weight, c.groupSize, bias, c.params);
    expect(viaBlocks.shape).toEqual(direct.shape);
    expect(relativeL2Error(viaBlocks.data, direct.data)).toBeLessThan(1e-13);
    expect(maxAbsDifference(viaBlocks.data, direct.data)).toBeLessThan(1e-12);
  });

  it('a pruned DW weight is a zeroed column of its block, and the DR conv still matches', () => {
    const rng = createRng(23);
    const weight = randomTensor([6, 1, 3, 3], rng);
    weight.data[4 * 9 + 7] = 0; // channel 4, tap 7: group 1 (G = 4), row 0, column 0*9 + 7
    const blocks = toDiagonalBlocks(weight, 4);
    const column = 7;
    const blockWidth = blocks[1].matrix.shape[1];
    expect(blocks[1].matrix.data[0 * blockWidth + column]).toBe(0);
    expect(blocks[1].matrix.data[1 * blockWidth + column]).toBe(0);
    const x = randomTensor([1, 6, 5, 5], rng);
    const direct = depthwiseConv2d(x, weight, null, { pads: [1, 1, 1, 1] });
    expect(relativeL2Error(depthwiseConv2dViaDiagonalBlocks(x, weight, 4, null, { pads: [1, 1, 1, 1] }).data, direct.data)).toBeLessThan(1e-13);
  });

  it('validates the DW weight against the input', () => {
    const x = randomTensor([1, 4, 5, 5], createRng(24));
    expect(() => depthwiseConv2dViaDiagonalBlocks(x, randomTensor([3, 1, 3, 3], createRng(1)), 2)).toThrow(/DW weight must have 4 channels/);
    expect(() => depthwiseConv2dViaDiagonalBlocks(x, randomTensor([4, 1, 3, 3], createRng(1)), 2, tensor(new Float64Array(3), [3]))).toThrow(
      /bias must have shape \[4\]/,
    );
  });
});
