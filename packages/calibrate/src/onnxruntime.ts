/**
 * onnxruntime-node as a calibration engine (`@deprune/calibrate/onnxruntime`): its CPU kernels are
 * far faster than gpu.js on a machine without a GPU, so calibration and reconstruction of real
 * models (PP-OCR at full size) take seconds instead of minutes. onnxruntime-node is an OPTIONAL
 * peer dependency: install it to use this entry; nothing else in the package imports it.
 */
import { DeprunError, ModelFileError } from '@deprune/errors';
import { serializeModel, type OnnxModel } from '@deprune/onnx';
import type { HostTensor } from '@deprune/runtime';
import type { ForwardEngine } from './engine';

type Ort = typeof import('onnxruntime-node');
type OrtSession = import('onnxruntime-node').InferenceSession;

async function loadOrt(): Promise<Ort> {
  try {
    return await import('onnxruntime-node');
  } catch (cause) {
    throw new DeprunError('UNSUPPORTED', 'the onnxruntime engine needs the package onnxruntime-node, which is not installed', {
      hint: 'npm install onnxruntime-node, or use the deprune runtime engine',
      cause,
    });
  }
}

/** Whether onnxruntime-node can be loaded here (for an 'auto' engine choice). */
export async function onnxruntimeAvailable(): Promise<boolean> {
  try {
    await loadOrt();
    return true;
  } catch {
    return false;
  }
}

/** onnxruntime's message, first line only and bounded (it can quote a whole node). */
function ortMessage(cause: unknown): string {
  const text = (cause instanceof Error ? cause.message : String(cause)).split('\n')[0].trim();
  return text.length > 300 ? `${text.slice(0, 300)}...` : text;
}

/**
 * onnxruntime refusing a model deprune accepted (an attribute it does not know, one given twice, a
 * declared input shape its check disagrees with) is the model's fault, not ours: exit 2 naming the
 * file, with onnxruntime's reason. The fuzzer found these as exit 1 "internal error" in eval.
 */
function refusedByOnnxruntime(model: OnnxModel, cause: unknown, stage: 'load' | 'run'): DeprunError {
  const what = stage === 'load' ? 'onnxruntime refuses the model' : 'onnxruntime cannot run the model on this input';
  return new ModelFileError('INVALID_MODEL', `${what}: ${ortMessage(cause)}`, {
    file: model.source,
    hint: stage === 'load' ? 'check the model with the ONNX checker, or use --engine deprune' : 'check the input shape against the model, or use --engine deprune',
    cause,
  });
}

export interface OnnxruntimeEngineOptions {
  /** Threads per session (default 1: the 2-core machines this project runs on share their cores). */
  threads?: number;
}

export function onnxruntimeEngine(options: OnnxruntimeEngineOptions = {}): ForwardEngine {
  let sessions = new WeakMap<OnnxModel, Promise<OrtSession>>();
  const open: OrtSession[] = [];
  let ort: Ort | undefined;
  return {
    name: 'onnxruntime-node (cpu)',
    async run(model, feeds) {
      ort ??= await loadOrt();
      const runtime = ort;
      let session = sessions.get(model);
      if (session === undefined) {
        session = runtime.InferenceSession.create(serializeModel(model), { intraOpNumThreads: options.threads ?? 1, interOpNumThreads: 1 }).then(
          (created) => {
            open.push(created);
            return created;
          },
          (cause: unknown) => {
            throw refusedByOnnxruntime(model, cause, 'load');
          },
        );
        sessions.set(model, session);
      }
      const ready = await session;
      const ortFeeds = Object.fromEntries(Object.entries(feeds).map(([name, value]) => [name, new runtime.Tensor('float32', value.data, [...value.shape])]));
      let results: Awaited<ReturnType<OrtSession['run']>>;
      try {
        results = await ready.run(ortFeeds);
      } catch (cause) {
        throw refusedByOnnxruntime(model, cause, 'run');
      }
      // onnxruntime-node returns outputs in a plain object, which cannot hold a value named
      // '__proto__' (the fuzzer found it dropped, then a crash where it was read): refuse instead.
      const lost = ready.outputNames.find((name) => !Object.hasOwn(results, name));
      if (lost !== undefined) {
        throw new DeprunError('UNSUPPORTED', `onnxruntime-node returned no value for '${lost}' (a value of that name cannot pass its JavaScript API)`, {
          file: model.source,
          hint: 'rename the value in the model, or use --engine deprune',
        });
      }
      const outputs: Record<string, HostTensor> = Object.create(null);
      for (const [name, value] of Object.entries(results)) {
        const data = value.data instanceof Float32Array ? value.data : Float32Array.from(value.data as ArrayLike<number>, Number);
        outputs[name] = { data, shape: value.dims.map(Number) };
      }
      return outputs;
    },
    async release(model) {
      const session = sessions.get(model);
      sessions.delete(model);
      if (session === undefined) return;
      const ready = await session;
      open.splice(open.indexOf(ready), 1);
      await ready.release();
    },
    async dispose() {
      for (const session of open.splice(0)) await session.release();
      sessions = new WeakMap();
    },
  };
}
