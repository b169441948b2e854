/**
 * Timing of the DW kernels on one layer: dense vs DEPrune-sparse (channel-balanced, t = 4) at
 * every kept count m, interleaved (every round calls each configuration once, so a slow spell of
 * a shared machine hits all alike), with each sparse count's speedup over dense against the ideal
 * K/m. Not a test: numbers depend on the machine. Run from packages/profiler:
 *   npx tsx scripts/time-dw.ts [mode] [channels] [size] [kernel] [stride] [repeats]
 *   (defaults: webasm 96 112 3 1 9; e.g. `webasm 240 28 5 1` for an EfficientNet-B0 5x5 layer)
 */
import { createRng, randomTensor, toFloat32, type Tensor } from '@deprune/tensor';
import { buildTapTable, disposeBackend, getKernel, resolveMode, type DwKeptTaps, type GpuMode } from '@deprune/gpu';
import { measureInterleaved } from '../src/index';

const [modeArg = 'webasm', channelsArg = '96', sizeArg = '112', kernelArg = '3', strideArg = '1', repeatsArg = '9'] = process.argv.slice(2);
const { mode, reason } = await resolveMode(modeArg as GpuMode | 'auto');
const [channels, size, kernel, stride, repeats] = [channelsArg, sizeArg, kernelArg, strideArg, repeatsArg].map(Number);
const taps = kernel * kernel;
const pad = (kernel - 1) / 2;
const rng = createRng(42);
const x = toFloat32(randomTensor([1, channels, size, size], rng)) as Tensor<Float32Array>;
const weight = toFloat32(randomTensor([channels, 1, kernel, kernel], rng)) as Tensor<Float32Array>;
const attrs = { pads: [pad, pad, pad, pad] as const, strides: [stride, stride] as const };

/** Every channel keeps m taps, a different random subset per channel (as real plans are scattered). */
function balanced(m: number): DwKeptTaps {
  const kept = Array.from({ length: channels }, () => {
    const order = Array.from({ length: taps }, (_, tap) => tap);
    for (let i = taps - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [order[i], order[j]] = [order[j], order[i]];
    }
    return order.slice(0, m).sort((a, b) => a - b);
  });
  return { name: 'dw', channels, kernel: [kernel, kernel], keptTaps: kept };
}

const counts = Array.from({ length: taps + 1 }, (_, m) => m);
const tables = counts.map((m) => buildTapTable(balanced(m), weight, { step: 4 }));
const dense = getKernel('dwDense', mode);
const sparse = getKernel('dwSparse', mode);
const runs = [() => dense(x, weight, null, attrs), ...tables.map((table) => () => sparse(x, table, null, attrs))];
console.log(`mode ${mode} (${reason})`);
console.log(`layer: DW ${kernel}x${kernel}, C=${channels}, ${size}x${size}, stride ${stride}, pad ${pad}; ${repeats} interleaved rounds after 1 warm-up`);
const results = await measureInterleaved(runs, { warmup: 1, repeats });
const denseMs = results[0].medianMs;
console.log(`dwDense                      ${denseMs.toFixed(2).padStart(8)} ms  (spread ${results[0].spreadMs.toFixed(2)})`);
tables.forEach((table, index) => {
  const run = results[index + 1];
  const speedup = denseMs / run.medianMs;
  const ideal = table.slots === 0 ? Number.POSITIVE_INFINITY : taps / counts[index];
  const label = `dwSparse m=${counts[index]} (slots ${table.slots})`.padEnd(29);
  const ofIdeal = Number.isFinite(ideal) ? `, ${((100 * speedup) / ideal).toFixed(0)}% of ideal ${ideal.toFixed(2)}x` : '';
  console.log(`${label}${run.medianMs.toFixed(2).padStart(8)} ms  (spread ${run.spreadMs.toFixed(2)}; ${speedup.toFixed(2)}x dense${ofIdeal})`);
});
await disposeBackend();
