import { UsageError } from '@deprune/errors';
import { findDsconvBlocks, inferShapes, listLayers, matchesPattern, type LayerInfo, type OnnxModel } from '@deprune/onnx';
import type { ProfileLayer } from './profiler';

/**
 * A model's layers as what gets timed: the DW and PW convs `deprune prune` prunes (the profiler's
 * input, `deprune profile`) and the DSConv blocks with their shapes (the kernel benchmark).
 */

/** Glob (`*`, `?`) patterns, comma separated, matched against whole node names. */
export function layerMatcher(patterns: string | readonly string[] | undefined): (name: string) => boolean {
  const list = (typeof patterns === 'string' ? [patterns] : (patterns ?? []))
    .flatMap((pattern) => pattern.split(','))
    .map((pattern) => pattern.trim())
    .filter((pattern) => pattern !== '');
  if (list.length === 0) return () => true;
  // @deprune/onnx's matcher: linear time (a pattern compiled to a RegExp backtracks exponentially on many stars).
  return (name) => list.some((pattern) => matchesPattern(name, pattern));
}

export interface ModelLayerOptions {
  /** Concrete input shapes by graph input name ('*' for a single input); dynamic batch is taken as 1. */
  inputShapes?: Record<string, readonly number[]>;
  /** Keep only layers (or blocks with a DW or PW) whose node name matches one of these globs. */
  layers?: string | readonly string[];
}

/** A DSConv block with the shapes of its two convs. */
export interface ShapedBlock {
  dw: LayerInfo & { inputShape: number[]; outputShape: number[] };
  pw: LayerInfo & { inputShape: number[]; outputShape: number[] };
  squeezeExcitation: boolean;
}

function shaped(info: LayerInfo, source: string | undefined): LayerInfo & { inputShape: number[]; outputShape: number[] } {
  if (!info.inputShape || !info.outputShape || info.inputShape.length !== 4 || info.outputShape.length !== 4) {
    throw new UsageError(`the shapes of layer '${info.name}' could not be inferred`, {
      file: source,
      node: info.name,
      hint: 'pass --input-shape 1,3,H,W',
    });
  }
  return info as LayerInfo & { inputShape: number[]; outputShape: number[] };
}

function layersWithShapes(model: OnnxModel, options: ModelLayerOptions): { infos: LayerInfo[]; seConvs: Set<string>; blocks: ReturnType<typeof findDsconvBlocks> } {
  const shapes = inferShapes(model, options.inputShapes ? { inputShapes: options.inputShapes } : {});
  const infos = listLayers(model, shapes);
  const blocks = findDsconvBlocks(model, infos);
  const seConvs = new Set<string>();
  for (const block of blocks) for (const node of block.squeezeExcitation?.nodes ?? []) seConvs.add(node);
  return { infos, seConvs, blocks };
}

/** The DSConv blocks of a model (DW + PW, from `findDsconvBlocks`), with shapes, filtered by `layers`. */
export function modelDsconvBlocks(model: OnnxModel, options: ModelLayerOptions = {}): ShapedBlock[] {
  const { infos, blocks } = layersWithShapes(model, options);
  const byName = new Map(infos.map((info) => [info.name, info]));
  const matches = layerMatcher(options.layers);
  return blocks
    .filter((block) => matches(block.dw) || matches(block.pw))
    .map((block) => ({
      dw: shaped(byName.get(block.dw)!, model.source),
      pw: shaped(byName.get(block.pw)!, model.source),
      squeezeExcitation: block.squeezeExcitation !== undefined,
    }));
}

export interface ProfileLayerOptions extends ModelLayerOptions {
  /** DW balanced unit to profile: 'channel' (dwSparse, default) or 'group' (dwDiagonal). */
  dwUnit?: 'channel' | 'group';
  groupSize?: number;
  tileRows?: number;
}

/**
 * The layers `deprune prune` prunes, as the profiler's input: every DW and PW conv of the model
 * except squeeze-excitation convs (never pruned), filtered by `layers`.
 */
export function modelProfileLayers(model: OnnxModel, options: ProfileLayerOptions = {}): ProfileLayer[] {
  const { infos, seConvs } = layersWithShapes(model, options);
  const matches = layerMatcher(options.layers);
  const result: ProfileLayer[] = [];
  for (const info of infos) {
    if ((info.kind !== 'dw' && info.kind !== 'pw') || seConvs.has(info.name) || !matches(info.name)) continue;
    const layer = shaped(info, model.source);
    if (info.kind === 'dw') {
      result.push({
        kind: 'dw',
        name: info.name,
        inputShape: layer.inputShape,
        kernel: info.kernel,
        strides: info.strides,
        pads: info.pads,
        dilations: info.dilations,
        unit: options.dwUnit ?? 'channel',
        ...(options.groupSize === undefined ? {} : { groupSize: options.groupSize }),
      });
    } else {
      result.push({
        kind: 'pw',
        name: info.name,
        // A strided 1x1 conv reads every s-th pixel: time it on the output's spatial size.
        inputShape: [layer.inputShape[0], layer.inputShape[1], layer.outputShape[2], layer.outputShape[3]],
        outChannels: info.outChannels,
        ...(options.tileRows === undefined ? {} : { tileRows: options.tileRows }),
      });
    }
  }
  return result;
}
