/**
 * Rough timing of the DW kernels on one MobileNet-sized layer (C=96, 112x112, 3x3, stride 1,
 * pad 1): dense vs DEPrune-sparse at several kept counts, and the DR form. Not a test: numbers
 * depend on the machine. Run from packages/gpu:
 *   npx tsx scripts/time-dw.ts [mode] [channels] [size]     (defaults: webasm 96 112)
 */
import { buildDwPlan, type DwLayer } from '@deprune/masks';
import { createRng, randomTensor, toFloat32, type Tensor } from '@deprune/tensor';
import { buildDiagonalTable, buildTapTable, disposeBackend, getKernel, measureMedian, resolveMode, type GpuMode } from '../src/index';

const [modeArg = 'webasm', channelsArg = '96', sizeArg = '112'] = process.argv.slice(2);
const { mode, reason } = await resolveMode(modeArg as GpuMode | 'auto');
const channels = Number(channelsArg);
const size = Number(sizeArg);
const rng = createRng(42);
const x = toFloat32(randomTensor([1, channels, size, size], rng)) as Tensor<Float32Array>;
const weight = toFloat32(randomTensor([channels, 1, 3, 3], rng)) as Tensor<Float32Array>;
const layer: DwLayer = { kind: 'dw', name: 'dw', channels, kernel: [3, 3], weights: Float64Array.from(weight.data) };
const attrs = { pads: [1, 1, 1, 1] as const };
const options = { warmup: 1, repeats: 5 };

/** Every channel keeps its first m taps (which taps does not matter for timing). */
function balanced(m: number) {
  return buildDwPlan(layer, Array.from({ length: channels }, () => Array.from({ length: m }, (_, tap) => tap)), { strategy: 'dcp', granularity: 'channel', groupSize: 1 });
}

console.log(`mode ${mode} (${reason})`);
console.log(`layer: DW 3x3, C=${channels}, ${size}x${size}, stride 1, pad 1; median of ${options.repeats} runs after ${options.warmup} warmup`);
const dense = await measureMedian(() => getKernel('dwDense', mode)(x, weight, null, attrs), options);
console.log(`dwDense                       ${dense.medianMs.toFixed(1).padStart(7)} ms  (spread ${dense.spreadMs.toFixed(1)})`);
for (const step of [4, 1]) {
  for (const m of [1, 2, 3, 4, 5, 6, 7, 8, 9]) {
    const table = buildTapTable(balanced(m), weight, { step });
    const run = await measureMedian(() => getKernel('dwSparse', mode)(x, table, null, attrs), options);
    const label = `dwSparse t=${step} m=${m} (slots ${table.slots})`.padEnd(30);
    console.log(`${label}${run.medianMs.toFixed(1).padStart(7)} ms  (spread ${run.spreadMs.toFixed(1)}, ${(run.medianMs / dense.medianMs).toFixed(2)}x dense)`);
  }
}
for (const m of [4, 9]) {
  const table = buildDiagonalTable(balanced(m), weight, { groupSize: 32 });
  const run = await measureMedian(() => getKernel('dwDiagonal', mode)(x, table, null, attrs), options);
  const label = `dwDiagonal G=32 m=${m} (n=${table.slots})`.padEnd(30);
  console.log(`${label}${run.medianMs.toFixed(1).padStart(7)} ms  (spread ${run.spreadMs.toFixed(1)}, ${(run.medianMs / dense.medianMs).toFixed(2)}x dense)`);
}
await disposeBackend();
