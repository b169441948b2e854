import type { GpuMode } from './modes';

/**
 * What computes in a gpu.js mode, as the current page or process can tell: the WebGL2 version and
 * renderer (`WEBGL_debug_renderer_info` where the browser exposes it), the WebGPU adapter's
 * vendor/architecture/device/description, or the CPU's thread count for the CPU modes. For
 * reports and for checking which device really ran (SwiftShader in headless Chromium). Never
 * throws: a failed query is described instead.
 */
export async function describeModeDevice(mode: GpuMode): Promise<string> {
  try {
    if (mode === 'webgl2') {
      if (typeof document === 'undefined') return 'no document (WebGL2 needs a browser page)';
      const gl = document.createElement('canvas').getContext('webgl2');
      if (!gl) return 'no WebGL2 context';
      const info = gl.getExtension('WEBGL_debug_renderer_info');
      const renderer = String(gl.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
      const version = String(gl.getParameter(gl.VERSION));
      gl.getExtension('WEBGL_lose_context')?.loseContext();
      return `${version}, ${renderer}`;
    }
    if (mode === 'webgpu') {
      const gpu = (globalThis.navigator as unknown as { gpu?: { requestAdapter(): Promise<{ info?: Record<string, string> } | null> } } | undefined)?.gpu;
      const adapter = await gpu?.requestAdapter();
      if (!adapter) return 'no WebGPU adapter';
      const info = adapter.info ?? {};
      return ['vendor', 'architecture', 'device', 'description'].map((key) => info[key]).filter((value) => value).join(', ') || 'adapter without info';
    }
    const threads = globalThis.navigator?.hardwareConcurrency;
    return threads === undefined ? `${mode} on the CPU` : `${mode} on the CPU (${threads} threads)`;
  } catch (error) {
    return `could not query the device: ${(error as Error).message}`;
  }
}
