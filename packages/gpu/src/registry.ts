import { UnsupportedError, UsageError } from '@deprune/errors';
import type { KernelBackend, KernelSignatures } from '@deprune/kernels';
import type { GPU, IKernelRunShortcut } from 'gpu.js';
import { getBackend, type GpuBackend } from './backend';
import { BUILTIN_KERNELS } from './kernels';
import { GPU_MODES, isGpuMode, type GpuMode } from './modes';

/**
 * The kernel registry, tfjs style (`tfjs-core/src/kernel_registry.ts`): one map from a kernel
 * name to a registration that says which modes it runs in and how to make its function for a
 * mode. Kernels are plain functions of inputs and attributes; the registration's `create` gets
 * the mode's gpu.js `GPU` instance and a `compile` cache, and returns that function. Contributors
 * add kernels with `registerKernel` without touching this file.
 */

/** What `create` receives besides the GPU instance. */
export interface KernelCreateConfig {
  mode: GpuMode;
  /**
   * The compiled gpu.js kernel for `signature` (kernel name, sizes and constants), built by
   * `build` on first use and cached per mode. After its first call the backend checks that gpu.js
   * did not degrade it to another backend.
   */
  compile(signature: string, build: (gpu: GPU) => IKernelRunShortcut): IKernelRunShortcut;
  /** Call after running a compiled kernel once: throws if gpu.js ran it in another backend. */
  assertRanInMode(signature: string, kernel: IKernelRunShortcut): void;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a registry holds functions of any arity
export type AnyKernelFn = (...args: any[]) => Promise<unknown>;

export interface KernelRegistration<Fn extends AnyKernelFn = AnyKernelFn> {
  name: string;
  description: string;
  /** The modes it runs in, or '*' for every mode gpu.js offers. */
  modes: readonly GpuMode[] | '*';
  create(gpu: GPU, config: KernelCreateConfig): Fn;
}

export interface RegisterKernelOptions {
  /** Replace an existing registration of the same name. Default false: a duplicate name throws. */
  override?: boolean;
}

/** The kernels' function types, by name: the contract in @deprune/kernels (extend it there by declaration merging). */
export type { KernelSignatures } from '@deprune/kernels';

const registry = new Map<string, KernelRegistration>();
let builtinsLoaded = false;

/**
 * Built-ins register on first use of the registry, not at import time: the package is marked
 * side-effect free, so nothing may depend on a module having been evaluated for its effects.
 */
function ensureBuiltins(): void {
  if (builtinsLoaded) return;
  builtinsLoaded = true;
  for (const registration of BUILTIN_KERNELS) {
    if (!registry.has(registration.name)) registry.set(registration.name, registration);
  }
}

function modesOf(registration: KernelRegistration): readonly GpuMode[] {
  return registration.modes === '*' ? GPU_MODES : registration.modes;
}

function validateRegistration(registration: KernelRegistration): void {
  if (registration === null || typeof registration !== 'object') throw new UsageError('registerKernel needs a registration object { name, modes, create }');
  const { name, modes, create } = registration;
  if (typeof name !== 'string' || name.trim() === '') throw new UsageError(`a kernel needs a non-empty name, got ${JSON.stringify(name)}`);
  if (typeof create !== 'function') throw new UsageError(`kernel '${name}' needs a create(gpu, config) function`);
  if (modes !== '*') {
    if (!Array.isArray(modes) || modes.length === 0) throw new UsageError(`kernel '${name}' needs modes: a non-empty list of gpu modes or '*'`);
    const unknown = modes.filter((mode) => !isGpuMode(mode));
    if (unknown.length > 0) throw new UsageError(`kernel '${name}' lists unknown modes ${unknown.join(', ')} (known: ${GPU_MODES.join(', ')})`);
  }
}

/** Adds a kernel. A name that exists throws unless `override: true`. */
export function registerKernel<Fn extends AnyKernelFn>(registration: KernelRegistration<Fn>, options: RegisterKernelOptions = {}): void {
  ensureBuiltins();
  validateRegistration(registration as unknown as KernelRegistration);
  if (registry.has(registration.name) && !options.override) {
    throw new UsageError(`kernel '${registration.name}' is already registered`, { hint: 'pass { override: true } to replace it' });
  }
  registry.set(registration.name, registration as unknown as KernelRegistration);
  created.delete(registration.name);
}

/** Removes a kernel; true if it existed. */
export function unregisterKernel(name: string): boolean {
  ensureBuiltins();
  created.delete(name);
  return registry.delete(name);
}

/** Every registration, sorted by name. */
export function listKernels(): KernelRegistration[] {
  ensureBuiltins();
  return [...registry.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/** The registration of `name`, or a UsageError listing what exists. */
export function getKernelRegistration(name: string): KernelRegistration {
  ensureBuiltins();
  const registration = registry.get(name);
  if (registration === undefined) {
    const known = [...registry.keys()].sort().join(', ') || 'none';
    throw new UsageError(`unknown gpu kernel '${String(name)}' (registered: ${known})`);
  }
  return registration;
}

/** Created functions per (name, mode) and backend instance: a disposed backend gets fresh ones. */
const created = new Map<string, Map<GpuMode, { backend: GpuBackend; fn: AnyKernelFn }>>();

async function kernelFunction(registration: KernelRegistration, mode: GpuMode): Promise<AnyKernelFn> {
  const backend = await getBackend(mode);
  let byMode = created.get(registration.name);
  if (byMode === undefined) {
    byMode = new Map();
    created.set(registration.name, byMode);
  }
  const cached = byMode.get(mode);
  if (cached !== undefined && cached.backend === backend) return cached.fn;
  const config: KernelCreateConfig = {
    mode,
    compile: (signature, build) => backend.compile(`${registration.name}:${signature}`, build),
    assertRanInMode: (signature, kernel) => backend.assertRanInMode(`${registration.name}:${signature}`, kernel),
  };
  const fn = registration.create(backend.gpu, config);
  byMode.set(mode, { backend, fn });
  return fn;
}

/**
 * The kernel `name` for `mode`, as a plain async function of inputs and attributes. Unknown names
 * and modes the kernel does not list throw here; a mode that does not work on this machine
 * rejects on the first call with an UNSUPPORTED DeprunError saying why.
 */
export function getKernel<Name extends keyof KernelSignatures>(name: Name, mode: GpuMode): KernelSignatures[Name];
export function getKernel(name: string, mode: GpuMode): AnyKernelFn;
export function getKernel(name: string, mode: GpuMode): AnyKernelFn {
  const registration = getKernelRegistration(name);
  if (!isGpuMode(mode)) throw new UsageError(`unknown gpu mode '${String(mode)}' (choose one of ${GPU_MODES.join(', ')})`);
  if (!modesOf(registration).includes(mode)) {
    throw new UnsupportedError(`gpu kernel '${name}' has no ${mode} implementation (it runs in: ${modesOf(registration).join(', ')})`);
  }
  const run: AnyKernelFn = async (...args) => (await kernelFunction(registration, mode))(...args);
  return run;
}

/**
 * The kernels of one gpu.js mode as a backend of the kernel contract (@deprune/kernels'
 * `KernelBackend`), the form the runtime takes every backend in.
 */
export function gpuKernelBackend(mode: GpuMode): KernelBackend {
  if (!isGpuMode(mode)) throw new UsageError(`unknown gpu mode '${String(mode)}' (choose one of ${GPU_MODES.join(', ')})`);
  return {
    name: mode,
    has(name: string): boolean {
      ensureBuiltins();
      const registration = registry.get(name);
      return registration !== undefined && modesOf(registration).includes(mode);
    },
    kernel<Name extends keyof KernelSignatures>(name: Name): KernelSignatures[Name] {
      return getKernel(name, mode);
    },
  };
}
