/**
 * Yardsticks: other runtimes that run the dense model on the same input in the same run, so every
 * number of ours has an established runtime beside it. The models suite takes them as plain
 * objects, so the suite is one piece of code in Node (onnxruntime-node, `yardstick-node.ts`) and in
 * the browser page (onnxruntime-web's wasm and webgpu backends, `browser/ort-web.ts`). A backend
 * that cannot run here is not dropped: it comes back as `YardstickUnavailable` with the reason,
 * and the report lists it.
 */
import type { HostTensor } from '@deprune/runtime';

/** One runnable yardstick session: the dense model on the suite's input. */
export interface YardstickRun {
  /** What ran it, e.g. 'onnxruntime-node' or 'onnxruntime-web webgpu'. */
  backend: string;
  /** CPU threads it was allowed to use (a GPU backend: the threads of its host side). */
  threads: number;
  /** Anything else a reader needs to know about this run (execution provider, fallbacks). */
  detail?: string;
  /** Runs the model once; returns the first output. */
  run(): Promise<HostTensor>;
}

/** A backend (a yardstick's, or ours for one variant) that could not run here, and why. */
export interface YardstickUnavailable {
  backend: string;
  threads: number | null;
  reason: string;
  /** Which of our variants, for our own runs (a yardstick runs the dense model). */
  variant?: string;
  /** What to do about it, in deprune bench flags; reports show it next to the reason. */
  hint?: string;
}

export interface Yardstick {
  /** Package name, e.g. 'onnxruntime-node'. */
  name: string;
  /** Its version, recorded in the report. */
  version: string;
  /** Sessions over the dense model (serialized ONNX) fed `input` as `inputName`. */
  open(model: Uint8Array, inputName: string, input: HostTensor): Promise<(YardstickRun | YardstickUnavailable)[]>;
}

export function isUnavailable(entry: YardstickRun | YardstickUnavailable): entry is YardstickUnavailable {
  return 'reason' in entry;
}

/** The part of onnxruntime-common's API that onnxruntime-node and onnxruntime-web share. */
export interface OrtModule {
  InferenceSession: {
    create(model: Uint8Array, options?: Record<string, unknown>): Promise<OrtSession>;
  };
  Tensor: new (type: 'float32', data: Float32Array, dims: readonly number[]) => unknown;
}

interface OrtSession {
  outputNames: readonly string[];
  run(feeds: Record<string, unknown>): Promise<Record<string, { data: unknown; dims: readonly number[] }>>;
}

/**
 * An onnxruntime session (node or web, same API) as a yardstick run. The output's data is copied:
 * onnxruntime-web may hand out a view into memory it reuses on the next run.
 */
export async function ortRun(ort: OrtModule, model: Uint8Array, sessionOptions: Record<string, unknown>, inputName: string, input: HostTensor, backend: string, threads: number, detail?: string): Promise<YardstickRun> {
  const session = await ort.InferenceSession.create(model, sessionOptions);
  const feed = { [inputName]: new ort.Tensor('float32', input.data, [...input.shape]) };
  return {
    backend,
    threads,
    ...(detail === undefined ? {} : { detail }),
    async run() {
      const result = await session.run(feed);
      const output = result[session.outputNames[0]];
      return { data: Float32Array.from(output.data as Float32Array), shape: output.dims.map(Number) };
    },
  };
}

/** The first line of an error, for a report's reason. */
export function reasonOf(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0];
}
