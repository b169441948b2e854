// @deprune/gpu is an optional peer of the runtime: the wasm mode never loads it, a gpu.js mode loads
// it on demand, and without it a gpu.js mode is refused with what to install.
import { describe, expect, it } from 'vitest';
import { UnsupportedError } from '@deprune/errors';
import { GPU_MODES } from '@deprune/gpu';
import { GPU_BACKEND_MODES } from '../src/index';
import { loadGpuPackage } from '../src/backends';

describe('@deprune/gpu as an optional peer', () => {
  it('names the same gpu.js modes, in the same order, as @deprune/gpu', () => {
    expect([...GPU_BACKEND_MODES]).toEqual([...GPU_MODES]);
  });

  it('refuses a gpu.js mode with the install command when the package is missing', async () => {
    const missing = Object.assign(new Error("Cannot find package '@deprune/gpu' imported from /x/runtime/dist/index.js"), { code: 'ERR_MODULE_NOT_FOUND' });
    const refusal = await loadGpuPackage('webgl2', () => Promise.reject(missing)).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(UnsupportedError);
    expect((refusal as UnsupportedError).message).toMatch(/mode webgl2 runs on gpu\.js through @deprune\/gpu, which is not installed/);
    expect((refusal as UnsupportedError).hint).toMatch(/npm install @deprune\/gpu/);
    // Another failure inside the package is not mistaken for a missing one, and is not cached.
    const broken = new Error('gpu.js failed to initialise');
    await expect(loadGpuPackage('cpu', () => Promise.reject(broken))).rejects.toBe(broken);
    const gpu = await loadGpuPackage('cpu');
    expect(typeof gpu.gpuKernelBackend).toBe('function');
  });
});
