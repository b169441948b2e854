/**
 * What `deprune profile` and `deprune bench` share: the --mode flag, the model argument (a
 * bundled or zoo name, or a file) with its input shapes.
 */
import { existsSync } from 'node:fs';
import { UsageError } from '@deprune/errors';
import type { GpuMode } from '@deprune/gpu';
import { resolveModel, zooModelNames, type ResolvedModel } from '../models';
import { parseInputShapeFlags, resolveInputShapes } from '../shapes';

export const MODE_NAMES = ['auto', 'webgpu', 'webgl2', 'headlessgl', 'webasm', 'cpu'] as const;

/** --mode: a gpu.js mode that works here ('auto' picks the best); UNSUPPORTED naming why otherwise. */
export async function resolveGpuMode(text: string | undefined, command: string): Promise<{ mode: GpuMode; reason: string }> {
  const requested = text ?? 'auto';
  if (!(MODE_NAMES as readonly string[]).includes(requested)) {
    throw new UsageError(`unknown --mode '${requested}'`, { hint: `choose one of ${MODE_NAMES.join(', ')} (run 'deprune ${command} --help')` });
  }
  const gpu = await import('@deprune/gpu');
  return gpu.resolveMode(requested as GpuMode | 'auto');
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
