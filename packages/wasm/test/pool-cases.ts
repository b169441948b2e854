import type { Activation } from '@deprune/kernels';
import type { Pool2dParams } from '@deprune/tensor';

/** Windowed pools with every semantic the kernels honour: pads, ceil mode, count_include_pad, dilation, 1xN, activations. */
export interface PoolCase {
  label: string;
  input: [number, number, number, number];
  params: Pool2dParams;
  activation?: Activation;
}

export const POOL_CASES: readonly PoolCase[] = [
  { label: 'max 3x3 stride 2 pads 1, C=5', input: [1, 5, 9, 11], params: { kind: 'max', kernel: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] } },
  { label: 'max 2x2 stride 2 ceil mode, odd size', input: [2, 3, 7, 9], params: { kind: 'max', kernel: [2, 2], strides: [2, 2], ceilMode: true } },
  { label: 'max 3x2 stride (2,1) dilation (2,1) ceil mode', input: [1, 2, 10, 7], params: { kind: 'max', kernel: [3, 2], strides: [2, 1], dilations: [2, 1], ceilMode: true } },
  { label: 'max asymmetric pads + relu6', input: [1, 3, 6, 5], params: { kind: 'max', kernel: [3, 3], pads: [0, 2, 2, 1] }, activation: 'relu6' },
  { label: 'average 3x3 pads 1, exclude pad', input: [2, 3, 6, 5], params: { kind: 'average', kernel: [3, 3], pads: [1, 1, 1, 1] } },
  { label: 'average asymmetric pads, count_include_pad', input: [1, 3, 6, 5], params: { kind: 'average', kernel: [3, 3], pads: [0, 1, 2, 1], countIncludePad: true } },
  { label: 'average 3x3 stride 2 ceil mode count_include_pad', input: [1, 7, 8, 6], params: { kind: 'average', kernel: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], ceilMode: true, countIncludePad: true } },
  { label: 'average 2x2 stride 2 ceil mode + hardswish', input: [1, 2, 7, 9], params: { kind: 'average', kernel: [2, 2], strides: [2, 2], ceilMode: true }, activation: 'hardswish' },
  { label: 'average 1x3 stride (1,2) on a 1xN image', input: [1, 5, 1, 13], params: { kind: 'average', kernel: [1, 3], strides: [1, 2] } },
  { label: 'average dilation 2 stride (2,1) pads [2,0,1,3]', input: [1, 3, 9, 8], params: { kind: 'average', kernel: [2, 3], strides: [2, 1], dilations: [2, 2], pads: [2, 0, 1, 3] } },
];
