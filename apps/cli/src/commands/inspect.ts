import { convGemmParameters, findDsconvBlocks, graphOf, indexGraph, inferShapes, listLayers, nodesOf, opsetVersion, toNumber } from '@deprune/onnx';
import { UsageError } from '@deprune/errors';
import type { LayerInfo, OnnxModel } from '@deprune/onnx';
import { helpHint } from '../args';
import { modelNamesText, resolveModel, type ResolvedModel } from '../models';
import { formatCount, formatShort, formatTable, type Output } from '../output';
import type { Command } from '../registry';
import { graphOutputs, parseInputShapeFlags, resolveInputShapes, type DeclaredDim, type InputShapeFlags, type ResolvedInputShape } from '../shapes';

/** Human output shows every layer up to this many; beyond it the first and last few. */
const FULL_LIST_LIMIT = 24;
const HEAD = 12;
const TAIL = 6;

export interface InspectLayer {
  name: string;
  kind: LayerInfo['kind'];
  op: LayerInfo['op'];
  kernel: number[];
  strides: number[];
  pads: number[];
  dilations: number[];
  inChannels: number;
  outChannels: number;
  group: number;
  params: number;
  macs: number | null;
  inputShape: number[] | null;
  outputShape: number[] | null;
  weight: string;
  bias: string | null;
}

export interface InspectBlock {
  dw: string;
  pw: string;
  between: string[];
  squeezeExcitation: boolean;
}

/** The `inspect --json` document. */
export interface InspectReport {
  model: {
    file: string | null;
    spec: string;
    irVersion: number;
    opset: number;
    producer: string;
    inputs: { name: string; shape: number[]; declaredShape: DeclaredDim[] | null; shapeFrom: ResolvedInputShape['from'] }[];
    outputs: { name: string; shape: (number | string | null)[] | null }[];
  };
  ops: Record<string, number>;
  totals: {
    nodes: number;
    params: number;
    macs: number | null;
    layers: number;
    dwLayers: number;
    pwLayers: number;
    convLayers: number;
    gemmLayers: number;
    blocks: number;
    dwParams: number;
    pwParams: number;
  };
  layers: InspectLayer[];
  blocks: InspectBlock[];
  warnings: string[];
}

/** op type -> count, most frequent first (ties by name); JSON keeps that order. */
function opHistogram(model: OnnxModel): Record<string, number> {
  const counts = new Map<string, number>();
  for (const node of nodesOf(model)) {
    const op = node.domain && node.domain !== 'ai.onnx' ? `${node.domain}.${node.opType}` : (node.opType ?? '');
    counts.set(op, (counts.get(op) ?? 0) + 1);
  }
  const sorted = [...counts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return Object.fromEntries(sorted);
}


/**
 * Nodes that carry constant weights but are not Conv/Gemm layers (MatMul with a constant
 * operand, ConvTranspose, Conv/Gemm from another domain or with a computed weight): the
 * totals leave them out, and the report says so.
 */
function uncountedWeightNodes(model: OnnxModel, layerNames: ReadonlySet<string>): Map<string, string[]> {
  const index = indexGraph(model);
  const found = new Map<string, string[]>();
  for (const node of index.nodes) {
    const name = node.name ?? '';
    if (layerNames.has(name)) continue;
    const op = node.domain && node.domain !== 'ai.onnx' ? `${node.domain}.${node.opType}` : (node.opType ?? '');
    const hasConstant = (node.input ?? []).some((input) => index.constants.has(input));
    const weightOp = ['MatMul', 'ConvTranspose', 'Conv', 'Gemm', 'ConvInteger', 'MatMulInteger', 'QLinearConv', 'QLinearMatMul'].includes(node.opType ?? '');
    if (!weightOp || !hasConstant) continue;
    found.set(op, [...(found.get(op) ?? []), name]);
  }
  return found;
}

function listText(names: readonly string[], limit = 3): string {
  const shown = names.slice(0, limit).map((name) => `'${name}'`);
  return names.length > limit ? `${shown.join(', ')} and ${names.length - limit} more` : shown.join(', ');
}

export function buildInspectReport(resolved: ResolvedModel, inputShapeFlags: InputShapeFlags): InspectReport {
  const { model } = resolved;
  const source = resolved.file ?? resolved.spec;
  const inputs = resolveInputShapes(model, inputShapeFlags, resolved.defaultInputShapes, source);
  const inference = inferShapes(model, { inputShapes: Object.fromEntries(inputs.map((input) => [input.name, input.shape])) });
  const layerInfos = listLayers(model, inference);
  const blockInfos = findDsconvBlocks(model, layerInfos);
  const warnings: string[] = [];

  // Root causes only: nodes downstream of an unresolved one are summarized in one line.
  const downstream = inference.unresolved.filter((problem) => /producer is unresolved/.test(problem.reason));
  for (const problem of inference.unresolved) {
    if (downstream.includes(problem)) continue;
    warnings.push(`shape inference could not resolve node '${problem.node}' (${problem.opType}): ${problem.reason}`);
  }
  if (downstream.length > 0) {
    warnings.push(`${downstream.length} node(s) after those have no inferred shapes either (${listText(downstream.map((problem) => problem.node))})`);
  }
  const layers: InspectLayer[] = layerInfos.map((layer) => ({
    name: layer.name,
    kind: layer.kind,
    op: layer.op,
    kernel: [...layer.kernel],
    strides: [...layer.strides],
    pads: [...layer.pads],
    dilations: [...layer.dilations],
    inChannels: layer.inChannels,
    outChannels: layer.outChannels,
    group: layer.group,
    params: layer.params,
    macs: layer.macs ?? null,
    inputShape: layer.inputShape ? [...layer.inputShape] : null,
    outputShape: layer.outputShape ? [...layer.outputShape] : null,
    weight: layer.weight,
    bias: layer.bias ?? null,
  }));
  const unknownMacs = layers.filter((layer) => layer.macs === null).map((layer) => layer.name);
  if (unknownMacs.length > 0) {
    warnings.push(
      `MACs unknown: the shapes of ${unknownMacs.length} layer(s) could not be inferred (${listText(unknownMacs)}); ` +
        'totals.macs is null (check --input-shape)',
    );
  }
  for (const [op, names] of uncountedWeightNodes(model, new Set(layers.map((layer) => layer.name)))) {
    warnings.push(`${names.length} ${op} node(s) with constant weights (${listText(names)}) are not Conv/Gemm layers; params and MACs leave them out`);
  }
  const sum = (values: number[]) => values.reduce((total, value) => total + value, 0);
  const ofKind = (kind: LayerInfo['kind']) => layers.filter((layer) => layer.kind === kind);
  const graph = graphOf(model);
  const inferredOrDeclared = (name: string, declared: DeclaredDim[] | undefined) =>
    inference.shapes.get(name) ?? declared ?? null;

  return {
    model: {
      file: resolved.file,
      spec: resolved.spec,
      irVersion: toNumber(model.proto.irVersion),
      opset: opsetVersion(model),
      producer: [model.proto.producerName, model.proto.producerVersion].filter(Boolean).join(' '),
      inputs: inputs.map((input) => ({ name: input.name, shape: input.shape, declaredShape: input.declared ?? null, shapeFrom: input.from })),
      outputs: graphOutputs(model).map((output) => ({ name: output.name, shape: inferredOrDeclared(output.name, output.declared) })),
    },
    ops: opHistogram(model),
    totals: {
      nodes: (graph.node ?? []).length,
      params: convGemmParameters(model).params,
      macs: unknownMacs.length > 0 ? null : sum(layers.map((layer) => layer.macs ?? 0)),
      layers: layers.length,
      dwLayers: ofKind('dw').length,
      pwLayers: ofKind('pw').length,
      convLayers: ofKind('conv').length,
      gemmLayers: ofKind('gemm').length,
      blocks: blockInfos.length,
      dwParams: sum(ofKind('dw').map((layer) => layer.params)),
      pwParams: sum(ofKind('pw').map((layer) => layer.params)),
    },
    layers,
    blocks: blockInfos.map((block) => ({
      dw: block.dw,
      pw: block.pw,
      between: [...block.betweenOps],
      squeezeExcitation: block.squeezeExcitation !== undefined,
    })),
    warnings,
  };
}

/** [1,3,224,224]; a dynamic dimension shows its name when short, else '?'. */
const dims = (shape: readonly (number | string | null)[] | null) =>
  shape ? `[${shape.map((dim) => (typeof dim === 'string' && dim.length <= 8 ? dim : typeof dim === 'number' ? dim : '?')).join(',')}]` : '?';

/** First and last few rows with a "... N more" line between, unless `all`. */
function elide<T>(rows: readonly T[], all: boolean): { head: T[]; tail: T[]; hidden: number } {
  if (all || rows.length <= FULL_LIST_LIMIT) return { head: [...rows], tail: [], hidden: 0 };
  return { head: rows.slice(0, HEAD), tail: rows.slice(rows.length - TAIL), hidden: rows.length - HEAD - TAIL };
}

function printElided(out: Output, headers: string[], rows: string[][], all: boolean, align: ('left' | 'right')[]): void {
  const { head, tail, hidden } = elide(rows, all);
  const ellipsis = hidden > 0 ? [[`... ${hidden} more (--layers lists all)`, ...headers.slice(1).map(() => '')]] : [];
  out.print(formatTable(headers, [...head, ...ellipsis, ...tail], { align, indent: 2 }));
}

function printReport(out: Output, report: InspectReport, allLayers: boolean): void {
  const { model, totals } = report;
  const kv = (rows: [string, string][]) => formatTable(['', ''], rows).split('\n').slice(2).join('\n');
  const shapeNote = (input: InspectReport['model']['inputs'][number]) => {
    const declared = dims(input.declaredShape);
    if (input.shapeFrom === 'flag') return ` (from --input-shape; declared ${declared})`;
    if (input.shapeFrom === 'default') return ` (default for ${model.spec}; declared ${declared})`;
    return declared === dims(input.shape) ? '' : ` (declared ${declared}; batch taken as 1)`;
  };
  out.print(
    kv([
      ['Model', model.file && model.file !== model.spec ? `${model.spec} (${model.file})` : model.spec],
      ['Format', `IR ${model.irVersion}, opset ${model.opset}${model.producer ? `, producer ${model.producer}` : ''}`],
      ...model.inputs.map((input): [string, string] => ['Input', `${input.name} ${dims(input.shape)}${shapeNote(input)}`]),
      ...model.outputs.map((output): [string, string] => ['Output', `${output.name} ${dims(output.shape)}`]),
    ]),
  );
  out.print();
  out.print('Totals (Conv and Gemm layers, batch 1)');
  out.print(
    formatTable(
      ['', ''],
      [
        ['parameters', formatCount(totals.params)],
        ['MACs', totals.macs === null ? 'unknown (see warnings)' : `${formatCount(totals.macs)} (${formatShort(totals.macs)})`],
        ['layers', `${totals.layers}: ${totals.dwLayers} dw, ${totals.pwLayers} pw, ${totals.convLayers} conv, ${totals.gemmLayers} gemm`],
        ['DSConv blocks', String(totals.blocks)],
        ['dw / pw params', `${formatCount(totals.dwParams)} / ${formatCount(totals.pwParams)}`],
        ['nodes', String(totals.nodes)],
      ],
      { indent: 2 },
    )
      .split('\n')
      .slice(2)
      .join('\n'),
  );
  out.print();
  const ops = Object.entries(report.ops);
  out.print(`Ops (${ops.length} types)`);
  out.print(formatTable(['op', 'count'], ops.map(([op, count]) => [op, String(count)]), { align: ['left', 'right'], indent: 2 }));
  out.print();
  out.print(`Layers (${report.layers.length})`);
  if (report.layers.length > 0) {
    printElided(
      out,
      ['name', 'kind', 'kernel', 'stride', 'channels', 'group', 'params', 'MACs', 'output'],
      report.layers.map((layer) => [
        layer.name,
        layer.kind,
        layer.op === 'Gemm' ? '-' : layer.kernel.join('x'),
        layer.op === 'Gemm' ? '-' : layer.strides.join(','),
        `${layer.inChannels}->${layer.outChannels}`,
        layer.op === 'Gemm' ? '-' : String(layer.group),
        formatCount(layer.params),
        layer.macs === null ? '?' : formatCount(layer.macs),
        dims(layer.outputShape),
      ]),
      allLayers,
      ['left', 'left', 'left', 'left', 'right', 'right', 'right', 'right', 'left'],
    );
  }
  out.print();
  out.print(`DSConv blocks (${report.blocks.length})`);
  if (report.blocks.length > 0) {
    printElided(
      out,
      ['dw', 'pw', 'between', 'SE'],
      report.blocks.map((block) => [block.dw, block.pw, block.between.join(' ') || '-', block.squeezeExcitation ? 'yes' : '']),
      allLayers,
      ['left', 'left', 'left', 'left'],
    );
  }
  if (report.warnings.length > 0) {
    out.print();
    out.print(`Warnings (${report.warnings.length})`);
    for (const warning of report.warnings) out.print(`  - ${warning}`);
  }
}

export const inspectCommand: Command = {
  name: 'inspect',
  summary: 'summarize a model: ops, Conv/Gemm layers (dw/pw/conv/gemm), DSConv blocks, params, MACs',
  usage: ['inspect <model> [--input-shape 1,3,H,W] [--layers] [--json]'],
  description: `
Counts: params are the elements of every Conv and Gemm weight and bias as stored
(BatchNormalization and MatMul weights are not counted); MACs are Conv and Gemm
multiply-accumulates at batch 1 for the input shape used. A dynamic batch dimension
is taken as 1; other dynamic dimensions need --input-shape (bundled models have defaults:
ppocr-det 1,3,640,640, ppocr-rec 1,3,48,320, ppocr-cls 1,3,48,192).
Human output lists all layers and blocks up to ${FULL_LIST_LIMIT}, otherwise the first ${HEAD} and last ${TAIL};
--layers lists all. --json always includes every layer and block.`,
  args: [{ name: 'model', description: `an .onnx file, or one of ${modelNamesText()} (zoo names may omit 'zoo:' and take ':folded')` }],
  flags: {
    'input-shape': {
      type: 'string',
      multiple: true,
      value: 'shape',
      description: 'input shape as 1,3,H,W; with several inputs name=1,3,H,W once per input',
    },
    layers: { type: 'boolean', description: 'list every layer and block in the human output' },
  },
  examples: [
    'deprune inspect ppocr-det',
    'deprune inspect zoo:mobilenetv2 --layers',
    'deprune inspect model.onnx --input-shape 1,3,224,224 --json > report.json',
  ],
  async run({ args, out }) {
    const spec = args.positional(0);
    if (spec === undefined) throw new UsageError('missing <model>', { hint: helpHint('inspect') });
    // Flags first: a typo in --input-shape should not wait for a large model to load.
    const inputShapeFlags = parseInputShapeFlags(args.strings('input-shape'));
    const resolved = await resolveModel(spec);
    const report = buildInspectReport(resolved, inputShapeFlags);
    out.result(report);
    if (!out.json) printReport(out, report, args.boolean('layers'));
    return 0;
  },
};
