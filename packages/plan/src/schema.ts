/**
 * The plan file's format as a JSON Schema (draft 2020-12), for tools outside TypeScript that write
 * or read `.deprune.json` files. `parsePlan` is the reference: it checks what the schema says and
 * what a schema cannot (a PW entry has ceil(outChannels / tileRows) index lists, indices stay below
 * the layer's taps or columns). The tests hold the two together: every field the schema requires,
 * the parser refuses a plan without.
 */
import { GRANULARITIES } from '@deprune/masks';
import { PLAN_FORMAT, PLAN_VERSION } from './plan';

const positiveInteger = { type: 'integer', minimum: 1 } as const;
const count = { type: 'integer', minimum: 0 } as const;
const indexList = { type: 'array', items: count } as const;

const layerShape = {
  oneOf: [
    {
      type: 'object',
      description: 'DW layer: channels and kernel [kh, kw]',
      required: ['channels', 'kernel'],
      properties: { channels: positiveInteger, kernel: { type: 'array', items: positiveInteger, minItems: 2, maxItems: 2 } },
      additionalProperties: false,
    },
    {
      type: 'object',
      description: 'PW layer: output rows and input columns',
      required: ['outChannels', 'inChannels'],
      properties: { outChannels: positiveInteger, inChannels: positiveInteger },
      additionalProperties: false,
    },
  ],
} as const;

export const PLAN_JSON_SCHEMA = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  title: 'deprune plan',
  description: 'What deprune prune writes next to a pruned model (<model>.deprune.json) and the runtime executes.',
  type: 'object',
  required: ['format', 'version', 'variant', 'model', 'output', 'config', 'layers', 'physical'],
  properties: {
    format: { const: PLAN_FORMAT },
    version: { const: PLAN_VERSION },
    variant: { type: 'string', minLength: 1 },
    model: {
      type: 'object',
      description: 'The input model: where it came from, the FNV-1a hash and size of its bytes',
      required: ['source', 'hash', 'bytes'],
      properties: { source: { type: 'string' }, hash: { type: 'string', minLength: 1 }, bytes: count },
    },
    output: {
      type: 'object',
      description: 'The pruned model this plan goes with: hash and size of its file, and its name as written',
      required: ['hash', 'bytes'],
      properties: { hash: { type: 'string', minLength: 1 }, bytes: count, file: { type: 'string' } },
    },
    config: { type: 'object', description: "The pruner's resolved configuration" },
    layers: {
      type: 'array',
      items: {
        type: 'object',
        required: ['name', 'kind', 'strategy', 'granularity', 'groupSize', 'tileRows', 'step', 'shape', 'kept', 'keptIndices', 'sparsity'],
        properties: {
          name: { type: 'string', minLength: 1 },
          kind: { enum: ['dw', 'pw'] },
          strategy: { type: 'string', minLength: 1 },
          granularity: { enum: [...GRANULARITIES] },
          groupSize: { oneOf: [{ type: 'null' }, positiveInteger] },
          tileRows: { oneOf: [{ type: 'null' }, positiveInteger], description: 'PW: output rows per tile; null for DW' },
          step: { oneOf: [{ type: 'null' }, positiveInteger], description: 'HSR chunk size; null before HSR' },
          shape: layerShape,
          kept: { type: 'array', items: count, description: 'DW: kept taps per channel; PW: kept columns per tile' },
          keptIndices: { type: 'array', items: indexList, description: 'The kept indices behind kept, strictly ascending' },
          sparsity: { type: 'number', minimum: 0, maximum: 1 },
          removedChannels: indexList,
        },
      },
    },
    physical: {
      description: 'channel variant only: the removals and every plan layer\'s shape in the output model; null otherwise',
      oneOf: [
        { type: 'null' },
        {
          type: 'object',
          required: ['removals', 'shapes'],
          properties: {
            removals: {
              type: 'array',
              items: {
                type: 'object',
                required: ['dw', 'channels', 'touched'],
                properties: { dw: { type: 'string', minLength: 1 }, channels: indexList, touched: { type: 'array', items: { type: 'string' } } },
              },
            },
            shapes: { type: 'object', additionalProperties: layerShape },
          },
        },
      ],
    },
  },
} as const;
