import { existsSync, statSync } from 'node:fs';
import { UsageError } from '@deprune/errors';
import { graphOf } from '@deprune/onnx';
import { helpHint, outputFlag } from '../args';
import { zooModelNames } from '../models';
import { formatCount, formatTable } from '../output';
import type { Command } from '../registry';

const NAMES = zooModelNames.join(', ');

export const zooCommand: Command = {
  name: 'zoo',
  summary: 'write a model-zoo network (MobileNetV2/V3, EfficientNet-B0) as an .onnx file',
  usage: ['zoo <name> -o <out.onnx> [--seed N] [--fold-bn] [--force] [--json]', 'zoo --list [--json]'],
  description: `
Builds an architecture-exact copy of a torchvision network with seeded random weights
(the same seed gives the same bytes) and writes it atomically. BatchNormalization is
kept unless --fold-bn. An existing file is never overwritten without --force.
Names: ${NAMES}.`,
  args: [{ name: 'name', description: `zoo model: ${NAMES}`, optional: true }],
  flags: {
    output: outputFlag('out.onnx', 'where to write the model'),
    seed: { type: 'string', value: 'N', description: 'weight seed, an integer >= 0 (default 0)' },
    'fold-bn': { type: 'boolean', description: 'fold every BatchNormalization into the Conv before it' },
    force: { type: 'boolean', short: 'f', description: 'overwrite the output file if it exists' },
    list: { type: 'boolean', description: 'list the zoo models and exit' },
  },
  examples: [
    'deprune zoo --list',
    'deprune zoo mobilenetv2 -o mobilenetv2.onnx',
    'deprune zoo efficientnet-b0 --fold-bn --seed 7 -o effnet-b0-folded.onnx --json',
  ],
  async run({ args, out }) {
    const zoo = await import('@deprune/zoo');
    if (args.boolean('list')) {
      if (args.positionals.length > 0 || args.has('output')) {
        throw new UsageError('--list takes no model name and no --output', { hint: helpHint('zoo') });
      }
      out.result({ models: zoo.zooModels.map((info) => ({ ...info })) });
      out.print(
        formatTable(
          ['name', 'title', 'published params', 'reference'],
          zoo.zooModels.map((info) => [info.name, info.title, formatCount(info.publishedParams), info.reference]),
          { align: ['left', 'left', 'right', 'left'] },
        ),
      );
      return 0;
    }
    const rawName = args.positional(0);
    if (rawName === undefined) throw new UsageError('missing <name> for \'zoo\'', { hint: `choose one of ${NAMES}, or pass --list` });
    const name = rawName.replace(/^zoo:/, '');
    const info = zoo.zooModels.find((candidate) => candidate.name === name);
    if (!info) throw new UsageError(`unknown zoo model '${rawName}'`, { hint: `choose one of ${NAMES}` });
    const output = args.string('output');
    if (output === undefined) throw new UsageError('missing --output <out.onnx>', { hint: helpHint('zoo') });
    const seed = args.integer('seed', { min: 0 }) ?? 0;
    const foldBatchNorm = args.boolean('fold-bn');
    if (existsSync(output)) {
      if (statSync(output).isDirectory()) throw new UsageError('is a folder', { file: output, hint: 'give a file path such as model.onnx' });
      if (!args.boolean('force')) {
        throw new UsageError('already exists; not overwriting it', { file: output, hint: 'pass --force to replace it, or choose another path' });
      }
    }
    const model = zoo.buildZooModel(info.name, { seed, foldBatchNorm });
    const { saveModel } = await import('@deprune/onnx/node');
    saveModel(model, output);
    const bytes = statSync(output).size;
    const trainableParams = zoo.trainableParameterCount(model);
    const graph = graphOf(model);
    out.result({
      file: output,
      model: info.name,
      title: info.title,
      seed,
      foldedBatchNorm: foldBatchNorm,
      trainableParams,
      nodes: (graph.node ?? []).length,
      bytes,
    });
    out.print(
      `wrote ${output}: ${info.title}, seed ${seed}, BatchNorm ${foldBatchNorm ? 'folded' : 'kept'}, ` +
        `${formatCount(trainableParams)} trainable parameters, ${(graph.node ?? []).length} nodes, ${formatCount(bytes)} bytes`,
    );
    return 0;
  },
};
