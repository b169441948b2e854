import { createRng, depthwiseConv2d, relativeL2Error, tensor, type Tensor } from '@deprune/tensor';
import { afterAll, describe, expect, it } from 'vitest';
import { inlineFusedActivation } from '../src/activation';
import { convGeometry } from '../src/kernels/conv-params';
import { paddedPlanes, perPlane, releasePaddedBuffers } from '../src/kernels/dw-taps';
import { activationValue, buildColumnTable, buildTapTable, disposeBackend, encodeActivation, getBackend, getKernel, type Activation } from '../src/index';
import { channelBalancedPlan, dwLayer, keptColumns, keptTaps, pwLayer, randomFloat32, uniformPwPlan } from './helpers';

afterAll(async () => {
  await disposeBackend();
});

const ACTIVATIONS: Activation[] = ['none', 'relu', 'relu6', { kind: 'clip', min: -1, max: 0.5 }, 'hardswish', { kind: 'hardswish', scale: 1.3, shift: -0.2 }, { kind: 'hardsigmoid', alpha: 0.3, beta: 0.1 }, 'sigmoid', 'silu'];
const BODY = `function body(value) {
  const doubled = value * 2;
  return fusedActivation(doubled / 2, this.constants.activation, this.constants.alpha, this.constants.beta);
}`;

describe('inlineFusedActivation', () => {
  it('writes the epilogue out, computing what the float64 reference computes', () => {
    const inlined = inlineFusedActivation(BODY);
    expect(inlined).not.toContain('fusedActivation(');
    const run = new Function(`return ${inlined}`)() as (this: unknown, value: number) => number;
    for (const activation of ACTIVATIONS) {
      const constants = encodeActivation(activation);
      const self = { constants: { activation: constants.code, alpha: constants.alpha, beta: constants.beta } };
      for (const value of [-7, -3, -0.4, 0, 0.25, 1, 2.5, 6.5]) expect(run.call(self, value)).toBe(activationValue(value, constants));
    }
  });

  it('reads minified bodies too (no semicolon before the closing brace)', () => {
    const minified = 'function b(v){return fusedActivation(v+bias[c],this.constants.activation,this.constants.alpha,this.constants.beta)}';
    expect(inlineFusedActivation(minified)).toMatch(/^function b\(v\)\{let fusedEpilogueValue = v\+bias\[c\];\n/);
    expect(inlineFusedActivation(minified)).not.toContain('fusedActivation(');
  });

  it('leaves calls it cannot write out to the helper', () => {
    const notLast = 'function b(v) { if (v > 0) { return fusedActivation(v, this.constants.activation, this.constants.alpha, this.constants.beta); } return 0; }';
    expect(inlineFusedActivation(notLast)).toBe(notLast);
    const notConstant = 'function b(v, code) { return fusedActivation(v, code, this.constants.alpha, this.constants.beta); }';
    expect(inlineFusedActivation(notConstant)).toBe(notConstant);
    expect(inlineFusedActivation('function b(v) { return v; }')).toBe('function b(v) { return v; }');
  });

  it('every built-in DW and PW kernel compiles with its epilogue written out (no per-lane helper call)', async () => {
    const rng = createRng(5);
    const x = randomFloat32([1, 4, 5, 5], rng);
    const weight = randomFloat32([4, 1, 3, 3], rng);
    const dw = dwLayer('dw', weight);
    const pwWeight = randomFloat32([6, 4], rng);
    const attrs = { pads: [1, 1, 1, 1] as const, activation: 'relu6' as const };
    await getKernel('dwDense', 'webasm')(x, weight, null, attrs);
    await getKernel('dwSparse', 'webasm')(x, buildTapTable(keptTaps(channelBalancedPlan(dw, 2, rng)), weight), null, attrs);
    await getKernel('pwDense', 'webasm')(x, pwWeight, null, { activation: 'silu' });
    await getKernel('pwSparse', 'webasm')(x, buildColumnTable(keptColumns(uniformPwPlan(pwLayer('pw', pwWeight), 3, [0, 2])), pwWeight), null, { activation: 'silu' });
    const compiled = (await getBackend('webasm')) as unknown as { compiled: Map<string, { kernel: { source: string } }> };
    expect(compiled.compiled.size).toBe(4);
    for (const [signature, kernel] of compiled.compiled) expect(kernel.kernel.source, signature).not.toContain('fusedActivation(');
  });
});

describe('the direct DW kernel inputs', () => {
  const x = tensor(Float32Array.from({ length: 2 * 2 * 3 * 4 }, (_, index) => index + 1), [2, 2, 3, 4]);

  it('materialises padding: planes of exactly the rows and columns the conv reads', () => {
    // 3x3, pads [1, 1, 1, 1], stride 1: Ho = 3, Wo = 4, padded 5 x 6.
    const g = convGeometry(x.shape, [2, 1, 3, 3], { pads: [1, 1, 1, 1], group: 2 });
    const { input, paddedHeight, paddedWidth, copied } = paddedPlanes(x, g, 'test');
    expect({ paddedHeight, paddedWidth, copied }).toEqual({ paddedHeight: 5, paddedWidth: 6, copied: true });
    expect(Array.from(input.size)).toEqual([30, 4]);
    const data = input.value as unknown as Float32Array;
    const plane1 = Array.from(data.subarray(30, 60));
    // Plane 1 (image 0, channel 1) holds x values 13..24 inside a border of zeros.
    expect(plane1).toEqual([0, 0, 0, 0, 0, 0, 0, 13, 14, 15, 16, 0, 0, 17, 18, 19, 20, 0, 0, 21, 22, 23, 24, 0, 0, 0, 0, 0, 0, 0]);
  });

  it('copies only what is read, and uses x in place when nothing needs padding', () => {
    // Stride 2 over 3 x 4 without pads: rows 0..2 and columns 0..2 are read; no copy.
    const valid = paddedPlanes(x, convGeometry(x.shape, [2, 1, 3, 3], { strides: [2, 2], group: 2 }), 'test');
    expect(valid.copied).toBe(false);
    expect(valid.paddedWidth).toBe(4);
    expect(valid.input.value).toBe(x.data);
    // Pads only at the bottom and right: a copy whose first row and column are x's.
    const bottom = paddedPlanes(x, convGeometry(x.shape, [2, 1, 2, 2], { pads: [0, 0, 1, 1], group: 2 }), 'test');
    expect(bottom).toMatchObject({ paddedHeight: 4, paddedWidth: 5, copied: true });
    expect(Array.from((bottom.input.value as unknown as Float32Array).subarray(0, 10))).toEqual([1, 2, 3, 4, 0, 5, 6, 7, 8, 0]);
    // Refused before any data is touched: a stand-in tensor is enough.
    const huge = { shape: [1, 1, 4097, 4097], data: new Float32Array(1) } as unknown as Tensor;
    expect(() => paddedPlanes(huge, convGeometry(huge.shape, [1, 1, 1, 1], { group: 1 }), 'big')).toThrow(
      /big: a padded input plane of 16785409 pixels is more than 16777216/,
    );
  });

  it('refuses output planes whose row arithmetic would be inexact', async () => {
    const x = tensor(new Float32Array(1449 * 1449), [1, 1, 1449, 1449]);
    const weight = tensor(Float32Array.of(1), [1, 1, 1, 1]);
    await expect(getKernel('dwDense', 'webasm')(x, weight)).rejects.toThrow(/dwDense: an output plane of 2099601 pixels is more than 2097152/);
  });

  it('reuses a pooled buffer per padding geometry, refilled by each call with its zero border kept', () => {
    const g = convGeometry(x.shape, [2, 1, 3, 3], { pads: [1, 1, 1, 1], group: 2 });
    const first = paddedPlanes(x, g, 'test', true).input.value as unknown as Float32Array;
    const other = tensor(x.data.map((value) => -value), x.shape);
    const second = paddedPlanes(other, g, 'test', true).input.value as unknown as Float32Array;
    expect(second).toBe(first);
    const fresh = paddedPlanes(other, g, 'test').input.value as unknown as Float32Array;
    expect(fresh).not.toBe(first);
    expect(Array.from(second)).toEqual(Array.from(fresh));
    // Another geometry (bottom and right pads only) gets its own buffer, not the first one's.
    const shifted = paddedPlanes(x, convGeometry(x.shape, [2, 1, 2, 2], { pads: [0, 0, 1, 1], group: 2 }), 'test', true);
    expect(shifted.input.value).not.toBe(first);
    releasePaddedBuffers();
    expect(paddedPlanes(x, g, 'test', true).input.value).not.toBe(first);
  });

  it.each(['webasm', 'cpu'] as const)('gives every call its own input in %s, where padded buffers are pooled', async (mode) => {
    const rng = createRng(17);
    const weight = randomFloat32([4, 1, 3, 3], rng);
    const attrs = { pads: [1, 2, 0, 1], strides: [2, 1] } as const;
    const dense = getKernel('dwDense', mode);
    const inputs = [randomFloat32([2, 4, 7, 5], rng), randomFloat32([2, 4, 7, 5], rng), randomFloat32([2, 4, 7, 5], rng)];
    // Three calls of one geometry, awaited together: each result is its own input's.
    const results = await Promise.all(inputs.map((input) => dense(input, weight, null, attrs)));
    results.forEach((result, index) => {
      expect(relativeL2Error(result.data, depthwiseConv2d(inputs[index], weight, null, attrs).data)).toBeLessThan(1e-5);
    });
  });

  it('repeats per-channel tables for each image of a batch', () => {
    expect(Array.from(perPlane(Float32Array.of(1, 2, 3), 2))).toEqual([1, 2, 3, 1, 2, 3]);
    const single = Float32Array.of(4);
    expect(perPlane(single, 1)).toBe(single);
  });
});

describe('readback', () => {
  it('hands out webasm results without a copy, never shared between calls', async () => {
    const rng = createRng(9);
    const weight = randomFloat32([3, 1, 3, 3], rng);
    const first = randomFloat32([1, 3, 6, 6], rng);
    const second = randomFloat32([1, 3, 6, 6], rng);
    const dense = getKernel('dwDense', 'webasm');
    const a = await dense(first, weight, null, { pads: [1, 1, 1, 1] });
    const snapshot = Float32Array.from(a.data);
    const b = await dense(second, weight, null, { pads: [1, 1, 1, 1] });
    expect(a.data.buffer.byteLength).toBe(a.data.length * 4);
    expect(a.data.buffer).not.toBe(b.data.buffer);
    expect(Array.from(a.data)).toEqual(Array.from(snapshot));
    expect(Array.from(b.data)).not.toEqual(Array.from(snapshot));
  });
});
