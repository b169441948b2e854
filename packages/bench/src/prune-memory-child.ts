/**
 * `node --expose-gc prune-memory-child.js request.json`: prunes one model once and prints the
 * memory the call needed (see prune-memory-node.ts). The request names the model file and the
 * prune config. A worker thread samples RSS while the main thread is busy in the synchronous
 * prune() call: the only way to see a peak inside a call that never yields.
 */
import { readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { parseModel } from '@deprune/onnx';
import { prune, type PruneConfig } from '@deprune/pipeline';
import type { PruneMemory } from './prune-suite';

const SAMPLER = `
const { workerData } = require('node:worker_threads');
const flags = new Int32Array(workerData, 0, 2);
const values = new Float64Array(workerData, 8, 2);
Atomics.store(flags, 1, 1);
Atomics.notify(flags, 1);
while (Atomics.load(flags, 0) === 0) Atomics.wait(flags, 0, 0, 1);
while (Atomics.load(flags, 0) === 1) {
  const rss = process.memoryUsage.rss();
  if (rss > values[0]) values[0] = rss;
  values[1] += 1;
  Atomics.wait(flags, 0, 1, 0.2);
}
`;

const MiB = 1024 * 1024;

async function main(): Promise<void> {
  const { modelPath, config } = JSON.parse(readFileSync(process.argv[2], 'utf8')) as { modelPath: string; config: PruneConfig };
  const model = parseModel(new Uint8Array(readFileSync(modelPath)), { source: modelPath });
  // flags[0]: 0 = wait, 1 = sample, 2 = stop; flags[1]: the sampler is up. values: peak RSS, samples.
  const shared = new SharedArrayBuffer(24);
  const flags = new Int32Array(shared, 0, 2);
  const values = new Float64Array(shared, 8, 2);
  const sampler = new Worker(SAMPLER, { eval: true, workerData: shared });
  const exited = new Promise((resolve) => sampler.once('exit', resolve));
  while (Atomics.load(flags, 1) === 0) await new Promise((resolve) => setTimeout(resolve, 1));
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  gc?.();
  const baseline = process.memoryUsage();
  values[0] = baseline.rss;
  Atomics.store(flags, 0, 1);
  Atomics.notify(flags, 0);
  prune(model, config);
  const after = process.memoryUsage();
  Atomics.store(flags, 0, 2);
  Atomics.notify(flags, 0);
  await exited;
  const peak = Math.max(values[0], after.rss);
  const memory: PruneMemory = {
    baselineRssMiB: baseline.rss / MiB,
    peakRssMiB: peak / MiB,
    peakExtraMiB: (peak - baseline.rss) / MiB,
    heapBeforeMiB: baseline.heapUsed / MiB,
    heapAfterMiB: after.heapUsed / MiB,
    samples: values[1],
  };
  process.stdout.write(`${JSON.stringify(memory)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
