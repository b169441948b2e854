/**
 * What `deprune profile` and `deprune bench` share: the --mode flag, the model argument (a
 * bundled or zoo name, or a file) with its input shapes.
 */
import { existsSync } from 'node:fs';
import { UsageError } from '@deprune/errors';
import type { GpuMode } from '@deprune/gpu';
import type { BackendMode } from '@deprune/runtime';
import { resolveModel, zooModelNames, type ResolvedModel } from '../models';
import { parseInputShapeFlags, resolveInputShapes } from '../shapes';

/** Every --mode: the wasm backend and the gpu.js modes. */
export const MODE_NAMES = ['auto', 'wasm', 'webgpu', 'webgl2', 'headlessgl', 'webasm', 'cpu'] as const;
/** The gpu.js modes only, for what runs gpu.js kernels directly. */
export const GPU_MODE_NAMES = ['auto', 'webgpu', 'webgl2', 'headlessgl', 'webasm', 'cpu'] as const;

/** The "did you mean" part of an unknown --mode's message. */
function unknownMode(requested: string, names: readonly string[], command: string): UsageError {
  return new UsageError(`unknown --mode '${requested}'`, { hint: `choose one of ${names.join(', ')} (run 'deprune ${command} --help')` });
}

/** --mode: a gpu.js mode that works here ('auto' picks the best); UNSUPPORTED naming why otherwise. */
export async function resolveGpuMode(text: string | undefined, command: string): Promise<{ mode: GpuMode; reason: string }> {
  const requested = text ?? 'auto';
  if (requested === 'wasm') throw new UsageError(`--mode wasm is not available for 'deprune ${command}' yet`, { hint: `choose one of ${GPU_MODE_NAMES.join(', ')}` });
  if (!(GPU_MODE_NAMES as readonly string[]).includes(requested)) throw unknownMode(requested, GPU_MODE_NAMES, command);
  const gpu = await import('@deprune/gpu');
  return gpu.resolveMode(requested as GpuMode | 'auto');
}

/**
 * --mode for what runs a whole model: the wasm backend or a gpu.js mode that works here ('auto':
 * wasm in Node); UNSUPPORTED naming why otherwise.
 */
export async function resolveBackendFlag(text: string | undefined, command: string): Promise<{ mode: BackendMode; reason: string }> {
  const requested = text ?? 'auto';
  if (!(MODE_NAMES as readonly string[]).includes(requested)) throw unknownMode(requested, MODE_NAMES, command);
  const runtime = await import('@deprune/runtime');
  return runtime.resolveBackendMode(requested as BackendMode | 'auto');
}

/** A model argument plus concrete input shapes (flag, bundled default, or the file's own). */
export async function loadModelWithShapes(spec: string, inputShapeFlags: readonly string[]): Promise<{ resolved: ResolvedModel; inputShapes: Record<string, number[]> }> {
  // `mobilenetv2` means the zoo network unless a file of that name exists.
  const effective = !existsSync(spec) && (zooModelNames as readonly string[]).includes(spec) ? `zoo:${spec}` : spec;
  const flags = parseInputShapeFlags(inputShapeFlags);
  const resolved = await resolveModel(effective);
  const shapes = resolveInputShapes(resolved.model, flags, resolved.defaultInputShapes, resolved.file ?? resolved.spec);
  return { resolved, inputShapes: Object.fromEntries(shapes.map((input) => [input.name, input.shape])) };
}
