import { DeprunError } from '@deprune/errors';
import { indexGraph, type OnnxModel } from '@deprune/onnx';
import type { PrunePlan } from '@deprune/plan';
import { createSession, type BackendMode, type HostTensor, type Session } from '@deprune/runtime';

/**
 * What calibration needs from an inference engine: run an ONNX model on one batch and return its
 * graph outputs. Calibration cuts the model down to the values it wants first (`truncateModel`),
 * so an engine never has to expose intermediates itself. Engines cache whatever they prepare per
 * model object: calibration passes the same object for every sample of a pass.
 */
export interface ForwardEngine {
  readonly name: string;
  run(model: OnnxModel, feeds: Record<string, HostTensor>): Promise<Record<string, HostTensor>>;
  /** Forgets what was prepared for `model` (calibration is done with it). */
  release(model: OnnxModel): Promise<void>;
  /** Frees every cached session. */
  dispose(): Promise<void>;
}

export interface RuntimeEngineOptions {
  /** Backend mode of @deprune/runtime (default 'wasm': the WebAssembly SIMD kernels, the fastest on a CPU). */
  mode?: BackendMode | 'auto';
  /** The deprune plan of a model, so its DCP/PCP layers run on the sparse kernels (default: none, dense). */
  planFor?: (model: OnnxModel) => PrunePlan | null | undefined;
}

/** @deprune/runtime as the engine: no native dependency, the models run as deprune runs them. */
export function runtimeEngine(options: RuntimeEngineOptions = {}): ForwardEngine {
  let sessions = new WeakMap<OnnxModel, Promise<Session>>();
  const mode = options.mode ?? 'wasm';
  return {
    name: `deprune-runtime (${mode})`,
    async run(model, feeds) {
      let session = sessions.get(model);
      if (session === undefined) {
        session = createSession(model, { mode, plan: options.planFor?.(model) ?? null });
        sessions.set(model, session);
      }
      const { outputs } = await (await session).run(feeds);
      return outputs;
    },
    async release(model) {
      sessions.delete(model);
    },
    async dispose() {
      sessions = new WeakMap();
    },
  };
}

/** The model's single graph input (calibration feeds one tensor per sample). */
export function singleInputName(model: OnnxModel): string {
  const inputs = indexGraph(model).inputs;
  if (inputs.length !== 1) {
    throw new DeprunError('UNSUPPORTED', `calibration feeds one input tensor, but the model has ${inputs.length} inputs (${inputs.join(', ')})`, {
      file: model.source,
      hint: 'calibrate a single-input model',
    });
  }
  return inputs[0];
}
