import { describe, expect, it } from 'vitest';
import { GraphBuilder, convGemmParameters } from '../src/index';

describe('convGemmParameters', () => {
  it('counts Conv and Gemm weights and biases once each, and their non-zeros', () => {
    const builder = new GraphBuilder({ name: 'params' });
    const x = builder.input('x', [1, 2, 4, 4]);
    // Shared by two convs: counted once. One of its four values is zero.
    const w = builder.weight('w', { data: new Float32Array([1, 0, 2, 3]), shape: [2, 2, 1, 1] });
    const b = builder.weight('b', { data: new Float32Array([0, 1]), shape: [2] });
    const first = builder.node('Conv', [x, w, b], {}, { name: 'conv_a' });
    const second = builder.node('Conv', [first, w], {}, { name: 'conv_b' });
    // BatchNormalization parameters are not Conv/Gemm parameters.
    const scale = builder.weight('scale', { data: new Float32Array([1, 1]), shape: [2] });
    const shift = builder.weight('shift', { data: new Float32Array([0, 0]), shape: [2] });
    const normalized = builder.node('BatchNormalization', [second, scale, shift, shift, scale], {}, { name: 'bn' });
    const flat = builder.node('Flatten', [normalized], {}, { name: 'flatten' });
    const g = builder.weight('g', { data: new Float32Array(32 * 3).fill(0.5), shape: [32, 3] });
    builder.output(builder.node('Gemm', [flat, g], {}, { name: 'fc' }));
    expect(convGemmParameters(builder.build())).toEqual({ params: 4 + 2 + 96, nonzero: 3 + 1 + 96 });
  });
});
