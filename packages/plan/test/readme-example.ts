import { PlanFileError, fnv1a32, parsePlan } from '../src/index';

// A plan file whose DW layer lists a tap index past the 3x3 kernel's last (8).
const text = JSON.stringify({
  format: 'deprune-plan',
  version: 1,
  variant: 'deprune',
  model: { source: 'm.onnx', hash: fnv1a32(new Uint8Array([1, 2, 3])), bytes: 3 },
  output: { hash: 'fnv1a32:00000000', bytes: 0 },
  config: {},
  layers: [
    { name: 'dw', kind: 'dw', strategy: 'dcp', granularity: 'channel', groupSize: 1, tileRows: null, step: null,
      shape: { channels: 1, kernel: [3, 3] }, kept: [2], keptIndices: [[0, 9]], sparsity: 0.78 },
  ],
  physical: null,
});
try {
  parsePlan(text, 'm.deprune.json');
} catch (error) {
  if (error instanceof PlanFileError) console.log(error.field, '|', error.message);
}
