import { describe, expect, it } from 'vitest';
import { ShapeError, UsageError } from '@deprune/errors';
import { tensor } from '@deprune/tensor';
import { ACTIVATION_CODES, activationValue, biasVector, collapseBroadcast, convGeometry, encodeActivation, float32Data, pointwiseShape } from '../src/index';

describe('the kernel contract', () => {
  it('encodes activations as (code, alpha, beta), the numbers every backend receives', () => {
    expect(encodeActivation('relu6')).toEqual({ code: ACTIVATION_CODES.clip, alpha: 0, beta: 6 });
    expect(encodeActivation({ kind: 'hardsigmoid', alpha: 0.3 })).toEqual({ code: ACTIVATION_CODES.hardsigmoid, alpha: 0.3, beta: 0.5 });
    expect(activationValue(-2, encodeActivation('relu'))).toBe(0);
    expect(activationValue(3, encodeActivation('hardswish'))).toBe(3);
    // HardSwish then a constant affine (PP-LCNetV3's learnable scale and bias); 1 and 0 are plain HardSwish.
    expect(encodeActivation({ kind: 'hardswish', scale: 1.5, shift: -0.25 })).toEqual({ code: ACTIVATION_CODES.scaledHardswish, alpha: 1.5, beta: -0.25 });
    expect(encodeActivation({ kind: 'hardswish', scale: 1, shift: 0 })).toEqual(encodeActivation('hardswish'));
    expect(activationValue(1, encodeActivation({ kind: 'hardswish', scale: 1.5, shift: -0.25 }))).toBeCloseTo(1.5 * (1 * (1 / 6 + 0.5)) - 0.25, 12);
    expect(activationValue(-4, encodeActivation({ kind: 'hardswish', scale: 1.5, shift: -0.25 }))).toBe(-0.25);
    expect(() => encodeActivation({ kind: 'hardswish', scale: Number.NaN })).toThrow(UsageError);
    expect(() => encodeActivation('gelu' as never)).toThrow(UsageError);
  });

  it('resolves conv geometry with the reference rules', () => {
    const g = convGeometry([1, 8, 9, 7], [8, 1, 3, 3], { strides: [2, 1], pads: [0, 1, 1, 0], group: 8 });
    expect(g.outputShape).toEqual([1, 8, 4, 6]);
    expect(() => convGeometry([1, 8, 9, 7], [4, 3, 3, 3], {})).toThrow(ShapeError);
  });

  it('collapses broadcasts to at most 4 axes and refuses shapes that do not broadcast', () => {
    expect(collapseBroadcast([[1, 16, 5, 5], [1, 16, 1, 1]], 'mul').dims).toEqual([1, 1, 16, 25]);
    expect(() => collapseBroadcast([[2, 3], [4, 3]], 'add')).toThrow(ShapeError);
  });

  it('checks biases, point-wise weights and float data alike for every backend', () => {
    expect(biasVector(null, 3, 'op')).toEqual(new Float32Array(3));
    expect(() => biasVector(tensor(new Float32Array(2), [2]), 3, 'op')).toThrow(/bias must have shape \[3\]/);
    expect(pointwiseShape([1, 4, 2, 2], [6, 4, 1, 1], 'pw')).toEqual({ outChannels: 6, inChannels: 4 });
    expect(() => pointwiseShape([1, 4, 2, 2], [6, 5], 'pw')).toThrow(ShapeError);
    expect(float32Data(tensor(Float64Array.from([0.1]), [1]))[0]).toBeCloseTo(0.1, 6);
  });
});
