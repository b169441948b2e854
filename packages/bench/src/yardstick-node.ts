/**
 * onnxruntime-node as the models suite's yardstick in Node: the dense model with one intra-op
 * thread (like gpu.js's single-threaded modes) and with every core (what a user of onnxruntime
 * gets by default).
 */
import { cpus } from 'node:os';
import { ortRun, reasonOf, type OrtModule, type Yardstick } from './yardsticks';

export interface NodeYardstickOptions {
  /** Intra-op thread counts, one run each. Default [1, cores]. */
  threads?: readonly number[];
}

export function onnxruntimeNodeYardstick(options: NodeYardstickOptions = {}): Yardstick {
  const threads = [...new Set(options.threads ?? [1, cpus().length])];
  return {
    name: 'onnxruntime-node',
    version: 'not loaded',
    async open(model, inputName, input) {
      let ort: typeof import('onnxruntime-node');
      try {
        ort = await import('onnxruntime-node');
      } catch (error) {
        return threads.map((count) => ({ backend: 'onnxruntime-node', threads: count, reason: `onnxruntime-node does not load here: ${reasonOf(error)}` }));
      }
      this.version = ort.env.versions.node ?? 'unknown';
      return Promise.all(
        threads.map((count) =>
          ortRun(ort as unknown as OrtModule, model, { intraOpNumThreads: count, interOpNumThreads: 1, graphOptimizationLevel: 'all' }, inputName, input, 'onnxruntime-node', count, 'CPU execution provider'),
        ),
      );
    },
  };
}
