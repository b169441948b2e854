import { DeprunError } from '@deprune/errors';

/**
 * Packages only some commands need, loaded when one of them runs. They are optional peer
 * dependencies of the CLI, so `npm i deprune` does not install them: @deprune/bench alone brings
 * onnxruntime-node, vega, vega-lite and canvas, hundreds of MB that pruning does not use.
 */

/** Whether `error` says that `name` itself (not something inside it) could not be found. */
function isMissingPackage(error: unknown, name: string): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : '';
  return (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && message.includes(`'${name}'`);
}

type Bench = typeof import('@deprune/bench');

/**
 * @deprune/bench, for `deprune bench`; a clear error naming what to install when it is missing.
 * (`load` is the import itself; tests pass a failing one.)
 */
export async function loadBench(command: string, load: () => Promise<Bench> = () => import('@deprune/bench')): Promise<Bench> {
  try {
    return await load();
  } catch (error) {
    if (!isMissingPackage(error, '@deprune/bench')) throw error;
    throw new DeprunError('UNSUPPORTED', `deprune ${command} needs the package @deprune/bench, which is not installed`, {
      hint: 'npm install @deprune/bench (it brings the benchmark suites, onnxruntime-node as the yardstick, and the chart renderer)',
      cause: error,
    });
  }
}
