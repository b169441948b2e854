import { UsageError } from '@deprune/errors';
import { BUILTIN_OPS } from './index';
import type { OpCompiler } from './step';

/**
 * The operator registry, like @deprune/gpu's kernel registry: one map from an ONNX op type to a
 * compiler that turns a node (with its static shapes, constants, plan entry and fusion) into an
 * executable step. Contributors add operators with `registerOp` without touching the runtime.
 */

const registry = new Map<string, OpCompiler>();
let builtinsLoaded = false;

/** Built-ins register on the registry's first use, not at import time (the package is side-effect free). */
function ensureBuiltins(): void {
  if (builtinsLoaded) return;
  builtinsLoaded = true;
  for (const compiler of BUILTIN_OPS) {
    for (const opType of compiler.opTypes) if (!registry.has(opType)) registry.set(opType, compiler);
  }
}

export function registerOp(compiler: OpCompiler, options: { override?: boolean } = {}): void {
  ensureBuiltins();
  if (compiler === null || typeof compiler !== 'object' || typeof compiler.compile !== 'function' || !Array.isArray(compiler.opTypes) || compiler.opTypes.length === 0) {
    throw new UsageError('registerOp needs { opTypes: string[], placement, compile(ctx) }');
  }
  for (const opType of compiler.opTypes) {
    if (registry.has(opType) && !options.override) throw new UsageError(`operator '${opType}' is already registered`, { hint: 'pass { override: true } to replace it' });
  }
  for (const opType of compiler.opTypes) registry.set(opType, compiler);
}

export function getOpCompiler(opType: string): OpCompiler | undefined {
  ensureBuiltins();
  return registry.get(opType);
}

/** Every op type the runtime can execute, sorted. */
export function supportedOps(): string[] {
  ensureBuiltins();
  return [...registry.keys()].sort();
}

