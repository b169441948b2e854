/**
 * Node-only diagnostics: why `headlessgl` or `webgpu` cannot run in this Node process. gpu.js only
 * says "not supported"; these checks load the native packages gpu.js would use (from gpu.js's own
 * location, since they are its dependencies, not ours) and keep the loader's message. Everything
 * Node-specific is behind `isNode()` and dynamic imports, so a browser bundle never touches it.
 */
import { firstLine } from './util';

export function isNode(): boolean {
  return typeof process !== 'undefined' && typeof process.versions === 'object' && typeof process.versions?.node === 'string';
}

type Require = (id: string) => unknown;
interface RequireWithResolve extends Require {
  resolve(id: string): string;
}

/** A require() that resolves from gpu.js's install location (pnpm keeps its deps beside it). */
async function requireFromGpuJs(): Promise<RequireWithResolve> {
  const { createRequire } = await import('node:module');
  const ours = createRequire(import.meta.url);
  return createRequire(ours.resolve('gpu.js')) as RequireWithResolve;
}

const GL_HINT =
  "allow its build (allowBuilds: gl: true in pnpm-workspace.yaml), install the apt packages libxi-dev libglu1-mesa-dev libglew-dev pkg-config xvfb, reinstall, and give it a display (packages/gpu's tests start Xvfb themselves; elsewhere run under 'xvfb-run -a')";

/** undefined when gpu.js's headlessgl backend can work; otherwise why not. */
export async function nodeHeadlessGlReason(gpuJsSaysSupported: boolean): Promise<string | undefined> {
  if (gpuJsSaysSupported) return undefined;
  try {
    const load = await requireFromGpuJs();
    load('gl');
  } catch (error) {
    return `the optional 'gl' package is not built (${firstLine(error)}); ${GL_HINT}`;
  }
  const display = process.env.DISPLAY ? `DISPLAY=${process.env.DISPLAY} did not work` : 'DISPLAY is unset';
  return `the 'gl' package loads but could not create a GL context (${display}: install xvfb, or run under 'xvfb-run -a')`;
}

const ADAPTER_TIMEOUT_MS = 5000;

/**
 * Why gpu.js's webgpu backend cannot run in this Node process. gpu.js looks for `navigator.gpu`,
 * which Node does not provide; the `webgpu` package (Dawn) can, if its binary loads and finds an
 * adapter. Bridging an adapter into `navigator.gpu` is left to the session that enables webgpu in
 * Node; here we only report what Dawn says.
 */
export async function nodeWebGpuReason(): Promise<string> {
  let dawn: { create(flags: string[]): { requestAdapter(): Promise<unknown> } };
  try {
    const load = await requireFromGpuJs();
    const { pathToFileURL } = await import('node:url');
    dawn = (await import(pathToFileURL(load.resolve('webgpu')).href)) as typeof dawn;
  } catch (error) {
    return `Node has no navigator.gpu and the 'webgpu' package (Dawn) does not load here: ${firstLine(error)}`;
  }
  try {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), ADAPTER_TIMEOUT_MS);
    });
    const adapter = await Promise.race([dawn.create([]).requestAdapter(), timeout]);
    clearTimeout(timer);
    if (adapter === 'timeout') return `Dawn did not answer requestAdapter() within ${ADAPTER_TIMEOUT_MS} ms`;
    if (!adapter) return "Node has no navigator.gpu and the 'webgpu' package (Dawn) found no adapter";
    return "Dawn found a WebGPU adapter, but exposing it to gpu.js as navigator.gpu in Node is not wired up yet";
  } catch (error) {
    return `Dawn's requestAdapter() failed: ${firstLine(error)}`;
  }
}
