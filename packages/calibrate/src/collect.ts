import { UsageError } from '@deprune/errors';
import type { LayerStatistics } from '@deprune/masks';
import { indexGraph, inferShapes, listLayers, type LayerInfo, type OnnxModel } from '@deprune/onnx';
import type { HostTensor } from '@deprune/runtime';
import { singleInputName, type ForwardEngine } from './engine';
import type { ConvGeometry } from './geometry';
import { dataInputOf, truncateModel } from './graph';
import { checkSamples, type CalibrationSample } from './samples';
import { StatisticsAccumulator } from './statistics';

export interface CalibrationProgress {
  stage: 'calibrate' | 'reconstruct';
  done: number;
  total: number;
  /** What is being worked on (a layer name, or a sample's source). */
  detail?: string;
}

export interface CollectOptions {
  engine: ForwardEngine;
  /** Layer names to collect for; default every DW and PW layer of the model. */
  layers?: readonly string[];
  onProgress?: (event: CalibrationProgress) => void;
  /** DW patches per tap and sample (default `DEFAULT_DW_VECTORS_PER_TAP`; `Infinity`: every pixel, exact sums). */
  dwVectorsPerTap?: number;
}

export interface CollectResult {
  /** By layer name: what `prune(model, config, { statistics })` takes. */
  statistics: Map<string, LayerStatistics>;
  samples: number;
  /** Input vectors summed per layer (samples x output pixels), by layer name. */
  vectors: Record<string, number>;
  engine: string;
  ms: number;
}

export function geometryOf(info: LayerInfo): ConvGeometry {
  return { kernel: info.kernel, strides: info.strides, pads: info.pads, dilations: info.dilations };
}

/** Layer infos of a model for the shape of its calibration input (pads of auto_pad models need it). */
export function layerInfos(model: OnnxModel, inputName: string, shape: readonly number[]): Map<string, LayerInfo> {
  const inference = inferShapes(model, { inputShapes: { [inputName]: shape } });
  return new Map(listLayers(model, inference).map((info) => [info.name, info]));
}

/**
 * One dense forward pass over the samples, one at a time: the model is cut down to the inputs of
 * the calibrated layers, each sample's values are summed into float64 accumulators and dropped, so
 * memory is one sample's activations plus the sums (a Gram matrix per layer).
 */
export async function collectStatistics(model: OnnxModel, samples: readonly CalibrationSample[], options: CollectOptions): Promise<CollectResult> {
  const started = performance.now();
  const inputName = singleInputName(model);
  checkSamples(samples, declaredChannels(model, inputName));
  const infos = layerInfos(model, inputName, samples[0].tensor.shape);
  const names = options.layers ?? [...infos.values()].filter((info) => info.kind === 'dw' || info.kind === 'pw').map((info) => info.name);
  const index = indexGraph(model);
  const accumulators = names.map((name) => {
    const info = infos.get(name);
    if (info === undefined || (info.kind !== 'dw' && info.kind !== 'pw')) {
      throw new UsageError(`layer '${name}' is not a DW or PW conv of the model`, { file: model.source, node: name });
    }
    return { name, value: dataInputOf(index, name), accumulator: new StatisticsAccumulator({ kind: info.kind, name, channels: info.inChannels, geometry: geometryOf(info), ...(options.dwVectorsPerTap === undefined ? {} : { dwVectorsPerTap: options.dwVectorsPerTap }) }) };
  });
  const fetched = [...new Set(accumulators.map((entry) => entry.value).filter((value) => value !== inputName))];
  const truncated = fetched.length > 0 ? truncateModel(model, fetched) : null;
  try {
    for (let position = 0; position < samples.length; position++) {
      const sample = samples[position];
      options.onProgress?.({ stage: 'calibrate', done: position, total: samples.length, detail: sample.source });
      const values: Record<string, HostTensor> = truncated ? await options.engine.run(truncated, { [inputName]: sample.tensor }) : {};
      values[inputName] = sample.tensor;
      for (const { value, accumulator } of accumulators) accumulator.add(values[value]);
    }
  } finally {
    if (truncated) await options.engine.release(truncated);
  }
  options.onProgress?.({ stage: 'calibrate', done: samples.length, total: samples.length });
  return {
    statistics: new Map(accumulators.map(({ name, accumulator }) => [name, accumulator.statistics()])),
    samples: samples.length,
    vectors: Object.fromEntries(accumulators.map(({ name, accumulator }) => [name, accumulator.count])),
    engine: options.engine.name,
    ms: performance.now() - started,
  };
}

/** The channel count the model declares for its input, when static. */
export function declaredChannels(model: OnnxModel, inputName: string): number | undefined {
  const input = (model.proto.graph?.input ?? []).find((candidate) => candidate.name === inputName);
  const dim = input?.type?.tensorType?.shape?.dim?.[1];
  const value = dim?.dimValue;
  if (value === undefined || value === null) return undefined;
  const channels = Number(value);
  return channels > 0 ? channels : undefined;
}
