/**
 * Peak memory of one `prune()` call, in Node: the call runs in a fresh Node process (nothing else
 * allocated, no earlier call's pages to reuse), where a worker thread samples the process's
 * resident set size about every 0.2 ms while the main thread prunes. The child script is
 * `dist/prune-memory-child.js` (src/prune-memory-child.ts), built by tsup.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { DeprunError } from '@deprune/errors';
import { serializeModel } from '@deprune/onnx';
import type { PruneMemory, PruneMemoryProbe } from './prune-suite';
import { exposedGarbageCollector, type CollectGarbage } from './suite-common';

/**
 * A full garbage collection in this Node process, for the timed suites: `gc` when Node was started
 * with --expose-gc, else the same function got by setting the flag now (V8 takes it at run time and
 * hands `gc` to contexts made after that, hence the fresh vm context).
 */
export function nodeGarbageCollector(): CollectGarbage {
  const exposed = exposedGarbageCollector();
  if (exposed !== undefined) return exposed;
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as CollectGarbage;
}

export const PRUNE_MEMORY_CHILD = 'prune-memory-child.js';

/** The built child script, next to dist/index.js or (tests, tsx) in ../dist. */
export function pruneMemoryChildPath(): string {
  const candidates = [`./${PRUNE_MEMORY_CHILD}`, `../dist/${PRUNE_MEMORY_CHILD}`].map((relative) => fileURLToPath(new URL(relative, import.meta.url)));
  const found = candidates.find((candidate) => existsSync(candidate));
  if (found === undefined) throw new DeprunError('INTERNAL', `the prune memory script ${PRUNE_MEMORY_CHILD} of @deprune/bench is missing`, { hint: 'build @deprune/bench first (tsup)' });
  return found;
}

export const NODE_PRUNE_MEMORY_METHOD =
  'each variant pruned once more in a fresh Node process (model parsed, full GC first); a worker thread samples the resident set size (RSS) about every 0.2 ms during the call: peak RSS minus RSS just before';

export function nodePruneMemoryProbe(): PruneMemoryProbe {
  const script = pruneMemoryChildPath();
  return {
    method: NODE_PRUNE_MEMORY_METHOD,
    async measure(model, config) {
      const folder = mkdtempSync(join(tmpdir(), 'deprune-prune-memory-'));
      try {
        const modelPath = join(folder, 'model.onnx');
        const requestPath = join(folder, 'request.json');
        writeFileSync(modelPath, serializeModel(model));
        writeFileSync(requestPath, JSON.stringify({ modelPath, config }));
        const stdout = await new Promise<string>((resolve, reject) => {
          execFile(process.execPath, ['--expose-gc', script, requestPath], { maxBuffer: 1 << 20 }, (error, out, err) => {
            if (error) reject(new DeprunError('INTERNAL', `measuring prune() memory for variant ${config.variant} failed: ${err.trim().split('\n').pop() ?? error.message}`, { cause: error }));
            else resolve(out);
          });
        });
        return JSON.parse(stdout) as PruneMemory;
      } finally {
        rmSync(folder, { recursive: true, force: true });
      }
    },
  };
}
