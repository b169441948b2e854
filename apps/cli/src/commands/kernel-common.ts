/**
 * What `deprune profile` and `deprune bench` share: the --mode flag, the model argument (a
 * bundled or zoo name, or a file) with its input shapes.
 */
import { DeprunError, UnsupportedError, UsageError } from '@deprune/errors';
import type { GpuMode } from '@deprune/gpu';
import type { BackendMode } from '@deprune/runtime';
import { resolveModel, type ResolvedModel } from '../models';
import { parseInputShapeFlags, resolveInputShapes } from '../shapes';

/** Every --mode: the wasm backend and the gpu.js modes. */
export const MODE_NAMES = ['auto', 'wasm', 'webgpu', 'webgl2', 'headlessgl', 'webasm', 'cpu'] as const;
/** The gpu.js modes only, for what runs gpu.js kernels directly. */
export const GPU_MODE_NAMES = ['auto', 'webgpu', 'webgl2', 'headlessgl', 'webasm', 'cpu'] as const;

/** The "did you mean" part of an unknown --mode's message. */
function unknownMode(requested: string, names: readonly string[], command: string): UsageError {
  return new UsageError(`unknown --mode '${requested}'`, { hint: `choose one of ${names.join(', ')} (run 'deprune ${command} --help')` });
}

/** The gpu.js modes that need a browser's GPU APIs (in Node they are not available). */
const BROWSER_MODES = ['webgpu', 'webgl2'] as const;

/** A DeprunError's message without the library's hint, which formatMessage appended as ` (hint)`. */
function messageWithoutHint(error: DeprunError): string {
  const suffix = error.hint === undefined ? '' : ` (${error.hint})`;
  return suffix !== '' && error.message.endsWith(suffix) ? error.message.slice(0, -suffix.length) : error.message;
}

/**
 * An unavailable --mode, told in flags: the libraries' hint names functions (availableModes())
 * that a command-line user cannot call, so this one lists the modes that work here instead.
 */
async function modeUnavailable(error: unknown, requested: string, modes: readonly string[]): Promise<unknown> {
  if (!(error instanceof DeprunError) || error.code !== 'UNSUPPORTED' || requested === 'auto') return error;
  const gpu = await import('@deprune/gpu');
  const working = new Set<string>(await gpu.availableModes());
  // The wasm backend's own check failed only if wasm itself was asked for; otherwise it is not in question.
  if (requested !== 'wasm') working.add('wasm');
  const usable = modes.filter((mode) => mode !== 'auto' && mode !== requested && working.has(mode));
  const browser = (BROWSER_MODES as readonly string[]).includes(requested) ? `; ${requested} needs a browser: 'deprune bench --browser chromium' runs the benchmark page there` : '';
  return new UnsupportedError(messageWithoutHint(error), {
    hint: `${usable.length > 0 ? `use ${usable.map((mode) => `--mode ${mode}`).join(' or ')}, or ` : ''}leave --mode out to pick one${browser}`,
    cause: error,
  });
}

/** --mode: a gpu.js mode that works here ('auto' picks the best); UNSUPPORTED naming why otherwise. */
export async function resolveGpuMode(text: string | undefined, command: string): Promise<{ mode: GpuMode; reason: string }> {
  const requested = text ?? 'auto';
  if (requested === 'wasm') throw new UsageError(`--mode wasm is not available for 'deprune ${command}' yet`, { hint: `choose one of ${GPU_MODE_NAMES.join(', ')}` });
  if (!(GPU_MODE_NAMES as readonly string[]).includes(requested)) throw unknownMode(requested, GPU_MODE_NAMES, command);
  const gpu = await import('@deprune/gpu');
  try {
    return await gpu.resolveMode(requested as GpuMode | 'auto');
  } catch (error) {
    throw await modeUnavailable(error, requested, GPU_MODE_NAMES);
  }
}

/**
 * --mode for what runs a whole model: the wasm backend or a gpu.js mode that works here ('auto':
 * wasm in Node); UNSUPPORTED naming why otherwise.
 */
export async function resolveBackendFlag(text: string | undefined, command: string): Promise<{ mode: BackendMode; reason: string }> {
  const requested = text ?? 'auto';
  if (!(MODE_NAMES as readonly string[]).includes(requested)) throw unknownMode(requested, MODE_NAMES, command);
  const runtime = await import('@deprune/runtime');
  try {
    return await runtime.resolveBackendMode(requested as BackendMode | 'auto');
  } catch (error) {
    throw await modeUnavailable(error, requested, MODE_NAMES);
  }
}

/** A model argument plus concrete input shapes (flag, bundled default, or the file's own). */
export async function loadModelWithShapes(spec: string, inputShapeFlags: readonly string[]): Promise<{ resolved: ResolvedModel; inputShapes: Record<string, number[]> }> {
  const flags = parseInputShapeFlags(inputShapeFlags);
  const resolved = await resolveModel(spec);
  const shapes = resolveInputShapes(resolved.model, flags, resolved.defaultInputShapes, resolved.file ?? resolved.spec);
  return { resolved, inputShapes: Object.fromEntries(shapes.map((input) => [input.name, input.shape])) };
}
