import { UnsupportedError, UsageError } from '@deprune/errors';
import { GPU, type IKernelFunctionThis } from 'gpu.js';
import { isNode, nodeHeadlessGlReason, nodeWebGpuReason } from './node-probes';
import { degradation, firstLine } from './util';

/**
 * The gpu.js backends this package runs kernels on. `cpu` is gpu.js's transpiled JavaScript,
 * `webasm` its WebAssembly + f32x4 SIMD backend; `headlessgl` is Node's GL path (the optional
 * native `gl` package), `webgl2` and `webgpu` are browser backends. gpu.js's `webgl` (WebGL 1) is
 * left out on purpose: anywhere it works, `webgl2` or `headlessgl` does too.
 */
export type GpuMode = 'cpu' | 'webasm' | 'headlessgl' | 'webgl2' | 'webgpu';

/** Every mode, in `auto`'s order of preference (best first). */
export const GPU_MODES: readonly GpuMode[] = Object.freeze(['webgpu', 'webgl2', 'headlessgl', 'webasm', 'cpu']);

/** What a mode probe found: available, or not and why. */
export interface ModeProbe {
  mode: GpuMode;
  available: boolean;
  /** Why the mode is unavailable; for an available mode, what was checked. */
  reason: string;
}

export interface ResolvedMode {
  mode: GpuMode;
  /** One line saying why this mode was picked (for `auto`: what was skipped and why). */
  reason: string;
}

export function isGpuMode(value: unknown): value is GpuMode {
  return typeof value === 'string' && (GPU_MODES as readonly string[]).includes(value);
}

function assertModeName(value: unknown, allowAuto: boolean): void {
  if (isGpuMode(value) || (allowAuto && value === 'auto')) return;
  const choices = [...(allowAuto ? ['auto'] : []), ...GPU_MODES].join(', ');
  throw new UsageError(`unknown gpu mode '${String(value)}' (choose one of ${choices})`);
}

/**
 * The probe kernel: small, but it exercises what the real kernels need (a constant-bounded loop,
 * `this.constants`, a flat array argument), so a mode that passes can run them.
 */
function probeKernel(this: IKernelFunctionThis<{ taps: number }>, values: number[]): number {
  let sum = 0;
  for (let tap = 0; tap < this.constants.taps; tap++) {
    sum += values[this.thread.x + tap];
  }
  return sum * 2;
}

const PROBE_VALUES = Float32Array.from([1, 2, 3, 4, 5, 6]);
const PROBE_EXPECTED = [12, 18, 24, 30];

/** Compiles and runs the probe kernel in `mode` on a throwaway GPU instance. */
async function runProbe(mode: GpuMode): Promise<ModeProbe> {
  let gpu: GPU | undefined;
  try {
    gpu = new GPU({ mode });
    const kernel = gpu.createKernel(probeKernel, {
      output: [PROBE_EXPECTED.length],
      constants: { taps: 3 },
      precision: 'single',
      tactic: 'precision',
    });
    const result = (await kernel(PROBE_VALUES)) as unknown as Float32Array;
    // gpu.js may degrade a kernel to its cpu backend; a mode only counts if it really ran.
    const degraded = degradation(kernel, mode, gpu.Kernel);
    if (degraded !== undefined) {
      return { mode, available: false, reason: `gpu.js ran the probe kernel on '${degraded.ran}' instead (${degraded.reason})` };
    }
    const values = Array.from(result as ArrayLike<number>);
    if (values.length !== PROBE_EXPECTED.length || values.some((value, index) => value !== PROBE_EXPECTED[index])) {
      return { mode, available: false, reason: `the probe kernel returned [${values.join(', ')}] instead of [${PROBE_EXPECTED.join(', ')}]` };
    }
    return { mode, available: true, reason: 'a probe kernel compiled, ran and returned the right values' };
  } catch (error) {
    return { mode, available: false, reason: `the probe kernel failed: ${firstLine(error)}` };
  } finally {
    try {
      await gpu?.destroy();
    } catch {
      // a half-built instance may fail to tear down; the probe's answer stands
    }
  }
}

/** Cheap reasons a mode cannot work here, found without building a kernel; undefined = try it. */
async function precheck(mode: GpuMode): Promise<string | undefined> {
  switch (mode) {
    case 'cpu':
      return undefined;
    case 'webasm':
      return GPU.isWebAssemblySupported ? undefined : 'this runtime has no WebAssembly';
    case 'headlessgl':
      if (!isNode()) return 'headlessgl is the Node GL backend; in a browser use webgl2';
      return nodeHeadlessGlReason(GPU.isHeadlessGLSupported);
    case 'webgl2':
      if (isNode()) return 'webgl2 needs a browser: Node has no WebGL2 context (headlessgl is the Node GL mode)';
      return GPU.isWebGL2Supported ? undefined : 'this browser gives no WebGL2 context';
    case 'webgpu':
      if (GPU.isWebGPUSupported) {
        return (await GPU.isWebGPUAvailable()) ? undefined : 'navigator.gpu is present but requestAdapter() found no adapter';
      }
      if (isNode()) return nodeWebGpuReason();
      return 'this browser has no WebGPU (navigator.gpu is missing)';
  }
}

let probes: Promise<Map<GpuMode, ModeProbe>> | undefined;

/**
 * Probes every mode once per process (cached): a cheap precheck, then a real compile-and-run of a
 * tiny kernel. Never throws; unavailable modes carry their reason.
 */
export function probeModes(): Promise<ReadonlyMap<GpuMode, ModeProbe>> {
  probes ??= (async () => {
    const found = new Map<GpuMode, ModeProbe>();
    for (const mode of GPU_MODES) {
      let reason: string | undefined;
      try {
        reason = await precheck(mode);
      } catch (error) {
        reason = `probing it failed: ${firstLine(error)}`;
      }
      found.set(mode, reason === undefined ? await runProbe(mode) : { mode, available: false, reason });
    }
    return found;
  })();
  return probes;
}

/** Forgets the cached probe results (e.g. after building `gl`); the next call probes again. */
export function resetModeProbes(): void {
  probes = undefined;
}

/** The modes that work here, best first. */
export async function availableModes(): Promise<GpuMode[]> {
  const found = await probeModes();
  return GPU_MODES.filter((mode) => found.get(mode)?.available === true);
}

/** Throws UNSUPPORTED naming the mode and why, unless it works here. */
export async function assertModeAvailable(mode: GpuMode): Promise<void> {
  assertModeName(mode, false);
  const probe = (await probeModes()).get(mode);
  if (probe && !probe.available) {
    throw new UnsupportedError(`gpu mode ${mode} is not available here: ${probe.reason}`, {
      hint: `run availableModes() to see what works, or ask for 'auto'`,
    });
  }
}

/**
 * `auto` picks the best available mode (webgpu > webgl2 > headlessgl > webasm > cpu) and says which
 * and why; an explicit mode is checked and returned, or rejected with an UNSUPPORTED DeprunError.
 */
export async function resolveMode(requested: 'auto' | GpuMode = 'auto'): Promise<ResolvedMode> {
  assertModeName(requested, true);
  if (requested !== 'auto') {
    await assertModeAvailable(requested);
    return { mode: requested, reason: `${requested}: asked for explicitly and available` };
  }
  const found = await probeModes();
  const skipped: string[] = [];
  for (const mode of GPU_MODES) {
    const probe = found.get(mode);
    if (probe?.available) {
      const why = skipped.length > 0 ? ` (skipped ${skipped.join('; ')})` : '';
      return { mode, reason: `auto: ${mode} is the best available mode${why}` };
    }
    skipped.push(`${mode}: ${probe?.reason ?? 'not probed'}`);
  }
  // cpu is plain JavaScript and cannot fail its probe short of a broken gpu.js install.
  throw new UnsupportedError(`no gpu.js mode works here (${skipped.join('; ')})`, { hint: 'check that gpu.js 2.24.1 is installed' });
}
