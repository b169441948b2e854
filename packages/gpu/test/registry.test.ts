import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createRng, tensor } from '@deprune/tensor';
import type { IKernelFunctionThis, IKernelRunShortcut } from 'gpu.js';
import { afterAll, describe, expect, it } from 'vitest';
import {
  activationValue,
  collapseBroadcast,
  availableModes,
  FUSED_ACTIVATION_SOURCE,
  disposeBackend,
  encodeActivation,
  getBackend,
  getKernel,
  GPU_JS_VERSION,
  listKernels,
  probeModes,
  readback,
  registerKernel,
  resolveMode,
  runStep,
  unregisterKernel,
  type Activation,
  type GpuMode,
  type KernelRegistration,
} from '../src/index';
import { degradation } from '../src/util';
import { MODES, randomFloat32 } from './helpers';

afterAll(async () => {
  await disposeBackend();
});

describe('modes', () => {
  it('cpu and webasm are available in Node (the parity suites depend on it)', async () => {
    const modes = await availableModes();
    expect(modes).toContain('cpu');
    expect(modes).toContain('webasm');
    expect(modes.indexOf('webasm')).toBeLessThan(modes.indexOf('cpu'));
  });

  it('keeps a reason for every mode', async () => {
    const probes = await probeModes();
    expect([...probes.keys()].sort()).toEqual(['cpu', 'headlessgl', 'webasm', 'webgl2', 'webgpu']);
    for (const probe of probes.values()) expect(probe.reason.length).toBeGreaterThan(10);
    expect(probes.get('webgl2')?.reason).toMatch(/needs a browser/);
  });

  it("'auto' picks the best available mode and says what it skipped", async () => {
    const resolved = await resolveMode('auto');
    expect(resolved.mode).toBe(MODES[0]);
    expect(resolved.reason).toMatch(new RegExp(`^auto: ${resolved.mode} is the best available mode`));
    if (resolved.mode !== 'webgpu') expect(resolved.reason).toMatch(/skipped webgpu: /);
  });

  it('returns an explicit available mode and rejects an unavailable one with UNSUPPORTED naming it and why', async () => {
    expect(await resolveMode('cpu')).toEqual({ mode: 'cpu', reason: 'cpu: asked for explicitly and available' });
    await expect(resolveMode('webgl2')).rejects.toMatchObject({
      code: 'UNSUPPORTED',
      message: expect.stringMatching(/^gpu mode webgl2 is not available here: webgl2 needs a browser/),
    });
  });

  it('says whether headlessgl runs here, and if not why (gl not built, or no display)', async () => {
    if (MODES.includes('headlessgl')) {
      expect((await probeModes()).get('headlessgl')?.reason).toBe('a probe kernel compiled, ran and returned the right values');
      return;
    }
    await expect(resolveMode('headlessgl')).rejects.toMatchObject({
      code: 'UNSUPPORTED',
      message: expect.stringMatching(/^gpu mode headlessgl is not available here: (the optional 'gl' package is not built|the 'gl' package loads but could not create a GL context)/),
    });
  });

  it('rejects unknown mode names with BAD_USAGE listing the modes', async () => {
    await expect(resolveMode('gpu' as GpuMode)).rejects.toMatchObject({ code: 'BAD_USAGE', message: expect.stringMatching(/auto, webgpu, webgl2, headlessgl, webasm, cpu/) });
  });
});

describe('registry', () => {
  it('lists the built-in kernels', () => {
    expect(listKernels().map((kernel) => kernel.name)).toEqual([
      'binary', 'conv2d', 'convTranspose2d', 'dsconv', 'dwDense', 'dwDiagonal', 'dwSparse', 'gemm', 'matmul', 'pool2d', 'pwDense', 'pwSparse', 'reduceAxis', 'resize2d', 'softmax', 'unary',
    ]);
  });

  it('rejects an unknown kernel, listing what exists', () => {
    expect(() => getKernel('dwDenseX', 'cpu')).toThrow(expect.objectContaining({ code: 'BAD_USAGE', message: expect.stringMatching(/unknown gpu kernel 'dwDenseX' \(registered: binary, conv2d, convTranspose2d, dsconv, dwDense, /) }));
    expect(() => getKernel('dwDense', 'vulkan' as GpuMode)).toThrow(/unknown gpu mode 'vulkan'/);
  });

  it('a kernel called in an unavailable mode rejects with UNSUPPORTED and the reason', async () => {
    const x = randomFloat32([1, 2, 3, 3], createRng(1));
    const weight = randomFloat32([2, 1, 3, 3], createRng(2));
    await expect(getKernel('dwDense', 'webgl2')(x, weight)).rejects.toMatchObject({ code: 'UNSUPPORTED', message: expect.stringMatching(/webgl2/) });
  });

  it('takes contributed kernels, per mode, and refuses duplicates unless overriding', async () => {
    function scaleBody(this: IKernelFunctionThis<{ factor: number }>, values: number[]): number {
      return values[this.thread.x] * this.constants.factor;
    }
    const scale: KernelRegistration<(x: Float32Array, factor: number) => Promise<Float32Array>> = {
      name: 'test.scale',
      description: 'multiplies a vector by a constant',
      modes: ['cpu'],
      create(_gpu, config) {
        return async (values, factor) => {
          const out = await runStep(config, { label: 'scale', body: scaleBody, output: [values.length], constants: { factor }, args: [values] });
          return (await readback(out, [values.length])).data;
        };
      },
    };
    registerKernel(scale);
    try {
      expect(Array.from((await getKernel('test.scale', 'cpu')(Float32Array.from([1, 2, 3]), 3)) as Float32Array)).toEqual([3, 6, 9]);
      expect(() => getKernel('test.scale', 'webasm')).toThrow(/'test.scale' has no webasm implementation \(it runs in: cpu\)/);
      expect(() => registerKernel(scale)).toThrow(/already registered/);
      registerKernel({ ...scale, modes: '*' }, { override: true });
      expect(Array.from((await getKernel('test.scale', 'webasm')(Float32Array.from([1, 2]), 0.5)) as Float32Array)).toEqual([0.5, 1]);
      expect(() => registerKernel({ ...scale, name: 'bad', modes: ['cuda' as GpuMode] })).toThrow(/unknown modes cuda/);
    } finally {
      expect(unregisterKernel('test.scale')).toBe(true);
    }
    expect(() => getKernel('test.scale', 'cpu')).toThrow(/unknown gpu kernel/);
  });

  it('compiles once per (kernel, mode, sizes, constants) and starts afresh after disposeBackend', async () => {
    const rng = createRng(3);
    const x = randomFloat32([1, 3, 5, 5], rng);
    const weight = randomFloat32([3, 1, 3, 3], rng);
    const dw = getKernel('dwDense', 'cpu');
    await disposeBackend('cpu');
    await dw(x, weight, null, { pads: [1, 1, 1, 1] });
    const backend = await getBackend('cpu');
    expect(backend.compiledCount).toBe(1);
    await dw(randomFloat32([1, 3, 5, 5], rng), weight, null, { pads: [1, 1, 1, 1] });
    expect(backend.compiledCount).toBe(1);
    await dw(x, weight, null, { pads: [1, 1, 1, 1], activation: 'relu' });
    expect(backend.compiledCount).toBe(2);
    await disposeBackend('cpu');
    const again = await dw(x, weight, null, { pads: [1, 1, 1, 1] });
    expect(again.shape).toEqual([1, 3, 5, 5]);
    expect(await getBackend('cpu')).not.toBe(backend);
  });

  it('refuses a kernel that gpu.js quietly ran on another backend', async () => {
    const backend = await getBackend('webasm');
    const degraded = { kernel: { constructor: { mode: 'cpu' }, fallbackReason: 'texture arguments' } } as unknown as IKernelRunShortcut;
    expect(() => backend.assertRanInMode('fake', degraded)).toThrow(/ran kernel fake on 'cpu' instead of 'webasm': texture arguments/);
  });

  it("accepts gpu.js's GL kernels, which all report mode 'gpu', as running in a GL mode", () => {
    const gl = { kernel: { constructor: { mode: 'gpu' }, fallbackReason: null } };
    expect(degradation(gl, 'headlessgl')).toBeUndefined();
    expect(degradation(gl, 'webgl2')).toBeUndefined();
    expect(degradation(gl, 'webasm')).toEqual({ ran: 'gpu', reason: 'no reason given' });
    expect(degradation({ kernel: { constructor: { mode: 'cpu' }, fallbackReason: 'kernel maps' } }, 'webgpu')).toEqual({ ran: 'cpu', reason: 'kernel maps' });
  });

  it('in a GL mode, requires the very kernel class the mode chose (no WebGL1 kernel passing for webgl2)', () => {
    class WebGL2Kernel {
      static mode = 'gpu';
    }
    class WebGLKernel {
      static mode = 'gpu';
    }
    expect(degradation({ kernel: new WebGL2Kernel() }, 'webgl2', WebGL2Kernel)).toBeUndefined();
    expect(degradation({ kernel: new WebGLKernel() }, 'webgl2', WebGL2Kernel)).toEqual({ ran: 'WebGLKernel', reason: 'gpu.js built it as WebGLKernel, not WebGL2Kernel' });
  });

  it('checks shapes before launching', async () => {
    const x = tensor(new Float32Array(2 * 9), [1, 2, 3, 3]);
    await expect(getKernel('dwDense', 'cpu')(x, tensor(new Float32Array(27), [3, 1, 3, 3]))).rejects.toMatchObject({ code: 'BAD_SHAPE' });
    await expect(getKernel('pwDense', 'cpu')(x, tensor(new Float32Array(6), [2, 3]))).rejects.toMatchObject({ code: 'BAD_SHAPE' });
    await expect(getKernel('gemm', 'cpu')(tensor(new Float32Array(6), [2, 3]), tensor(new Float32Array(6), [2, 3]))).rejects.toThrow(/inner dimensions differ/);
    await expect(getKernel('binary', 'cpu')(tensor(new Float32Array(6), [2, 3]), tensor(new Float32Array(4), [4]), 'add')).rejects.toThrow(/do not broadcast \(axis 1: 3 vs 4\)/);
    await expect(getKernel('matmul', 'cpu')(tensor(new Float32Array(6), [2, 3]), tensor(new Float32Array(8), [4, 2]))).rejects.toThrow(/inner dimensions differ/);
    await expect(getKernel('reduceAxis', 'cpu')(x, { outer: 2, length: 2, inner: 2 }, 'sum')).rejects.toThrow(/does not cover the input/);
    await expect(getKernel('unary', 'cpu')(x, 'cube' as never)).rejects.toThrow(/unknown operator 'cube'/);
  });

  it('collapses broadcasts to at most four index axes and refuses more', () => {
    expect(collapseBroadcast([[1, 6, 5, 7], [1, 6, 1, 1]], 'add')).toEqual({ outputShape: [1, 6, 5, 7], dims: [1, 1, 6, 35], strides: [[0, 0, 35, 1], [0, 0, 1, 0]] });
    expect(collapseBroadcast([[2, 3, 4], [2, 3, 4]], 'add').dims).toEqual([1, 1, 1, 24]);
    expect(() => collapseBroadcast([[2, 3, 4, 5, 6], [1, 3, 1, 5, 1]], 'min')).toThrow(/needs 5 index axes; the element-wise kernels handle 4/);
  });
});

describe('activations and timing', () => {
  it('encodes activations and rejects bad ones', () => {
    expect(encodeActivation('relu6')).toEqual({ code: 2, alpha: 0, beta: 6 });
    expect(encodeActivation({ kind: 'hardsigmoid' })).toEqual({ code: 4, alpha: 0.2, beta: 0.5 });
    expect(() => encodeActivation('gelu' as 'relu')).toThrow(/unknown activation "gelu"/);
    expect(() => encodeActivation({ kind: 'clip', min: 1, max: 0 })).toThrow(/min <= max/);
  });

  it('the kernels\' helper source computes what the float64 reference computes', () => {
    const helper = new Function(`return ${FUSED_ACTIVATION_SOURCE}`)() as (value: number, code: number, alpha: number, beta: number) => number;
    const activations: Activation[] = ['none', 'relu', 'relu6', { kind: 'clip', min: -1, max: 0.5 }, 'hardswish', { kind: 'hardswish', scale: 1.3, shift: -0.2 }, { kind: 'hardsigmoid', alpha: 0.3, beta: 0.1 }, 'sigmoid', 'silu'];
    for (const activation of activations) {
      const encoded = encodeActivation(activation);
      for (const value of [-7, -3, -0.4, 0, 0.25, 1, 2.5, 6.5]) {
        expect(helper(value, encoded.code, encoded.alpha, encoded.beta)).toBe(activationValue(value, encoded));
      }
    }
  });

  it('GPU_JS_VERSION is the installed gpu.js', () => {
    const manifest = createRequire(import.meta.url).resolve('gpu.js/package.json');
    expect(JSON.parse(readFileSync(manifest, 'utf8')).version).toBe(GPU_JS_VERSION);
  });
});
