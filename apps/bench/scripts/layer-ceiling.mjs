#!/usr/bin/env node
// How fast one dense layer can run on this CPU: onnxruntime-node (1 thread, its own x86 kernels)
// against our wasm backend (1 thread, WebAssembly 128-bit SIMD), in one process on the same input,
// interleaved round by round after warm-up; medians in GFLOP/s (2 flops per multiply-add).
// Ours is timed twice: the kernel alone on an input already in wasm memory (as a layer inside a
// model finds it), and a whole one-layer session (input copied in, output copied out), which is
// what onnxruntime's run includes. Every result is checked against onnxruntime's first.
// The layers are the point-wise and depth-wise shapes of PP-OCRv4 rec and MobileNetV2.
// Usage: node --experimental-wasm-relaxed-simd apps/bench/scripts/layer-ceiling.mjs [rounds]
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { GraphBuilder, serializeModel } from '@deprune/onnx';
import { createKernelBackend, createSession } from '@deprune/runtime';

const ort = createRequire(import.meta.url)('onnxruntime-node');
const rounds = Number(process.argv[2] ?? 41);
if (!Number.isInteger(rounds) || rounds < 1 || rounds > 10000) {
  console.error(`layer-ceiling: rounds must be a whole number from 1 to 10000, got '${process.argv[2]}'`);
  process.exit(2);
}
const LAYERS = [
  { label: 'PW 480->480 @12x80 (rec)', kind: 'pw', channels: 480, out: 480, height: 12, width: 80 },
  { label: 'PW 240->240 @12x80 (rec)', kind: 'pw', channels: 240, out: 240, height: 12, width: 80 },
  { label: 'PW 144->24 @56x56 (MobileNetV2)', kind: 'pw', channels: 144, out: 24, height: 56, width: 56 },
  { label: 'PW 384->64 @14x14 (MobileNetV2)', kind: 'pw', channels: 384, out: 64, height: 14, width: 14 },
  { label: 'DW 3x3 C144 @56x56 (MobileNetV2)', kind: 'dw', channels: 144, out: 144, height: 56, width: 56 },
];

let seed = 1;
const random = (count) => Float32Array.from({ length: count }, () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) - 0.5);
const median = (values) => [...values].sort((a, b) => a - b)[values.length >> 1];
const cpu = readFileSync('/proc/cpuinfo', 'utf8');
const field = (name) => cpu.match(new RegExp(`^${name}\\s*:\\s*(.*)$`, 'm'))?.[1] ?? '?';
const avx512 = /\bavx512f\b/.test(cpu) ? 'yes' : 'no';
console.log(`CPU: ${field('model name')}, family ${field('cpu family')} model ${field('model')}; AVX-512: ${avx512}; Node ${process.version}; ${rounds} interleaved rounds after 10 warm-up rounds`);
console.log('| layer | MFLOP | onnxruntime-node 1 thread | ours, kernel on a resident input | ours, one-layer session | onnxruntime / ours (kernel) |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
const backend = await createKernelBackend('wasm', { threads: 1 });
for (const layer of LAYERS) {
  const { kind, channels, out, height, width } = layer;
  const taps = kind === 'pw' ? 1 : 9;
  const builder = new GraphBuilder({ name: 'layer', opset: 13 });
  const x = builder.input('x', [1, channels, height, width]);
  const weight = { data: random(out * (kind === 'pw' ? channels : 1) * taps), shape: kind === 'pw' ? [out, channels, 1, 1] : [out, 1, 3, 3] };
  const w = builder.weight('w', weight);
  builder.output(builder.node('Conv', [x, w], kind === 'pw' ? {} : { group: channels, pads: [1, 1, 1, 1] }, { name: 'conv' }));
  const model = builder.build();
  const flops = 2 * out * height * width * (kind === 'pw' ? channels : taps);
  const data = random(channels * height * width);
  const reference = await ort.InferenceSession.create(serializeModel(model), { intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
  const session = await createSession(model, { mode: 'wasm', threads: 1 });
  const ortFeeds = { x: new ort.Tensor('float32', data, [1, channels, height, width]) };
  const ourFeeds = { x: { data, shape: [1, channels, height, width] } };
  const resident = backend.upload({ data, shape: [1, channels, height, width] });
  const kernelWeight = kind === 'pw' ? { data: weight.data, shape: [out, channels] } : weight;
  const kernel = kind === 'pw' ? () => backend.kernel('pwDense')(resident, kernelWeight, null) : () => backend.kernel('dwDense')(resident, kernelWeight, null, { pads: [1, 1, 1, 1] });
  const expected = (await reference.run(ortFeeds))[reference.outputNames[0]].data;
  for (const [name, got] of [['session', (await session.run(ourFeeds)).outputs[session.outputNames[0]].data], ['kernel', (await kernel()).data]]) {
    let error = 0;
    let norm = 0;
    for (let i = 0; i < expected.length; i++) {
      error += (got[i] - expected[i]) ** 2;
      norm += expected[i] ** 2;
    }
    if (!(Math.sqrt(error / norm) < 1e-4)) throw new Error(`${layer.label}: our ${name} differs from onnxruntime (relative L2 ${Math.sqrt(error / norm)})`);
  }
  const runs = [
    async () => reference.run(ortFeeds),
    async () => backend.release(await kernel()),
    async () => session.run(ourFeeds),
  ];
  const times = runs.map(() => []);
  for (let round = 0; round < rounds + 10; round++) {
    for (const [at, run] of runs.entries()) {
      const started = performance.now();
      await run();
      if (round >= 10) times[at].push(performance.now() - started);
    }
  }
  const [ortRate, kernelRate, sessionRate] = times.map((values) => flops / median(values) / 1e6);
  console.log(`| ${layer.label} | ${(flops / 1e6).toFixed(1)} | ${ortRate.toFixed(0)} GFLOP/s | ${kernelRate.toFixed(0)} GFLOP/s | ${sessionRate.toFixed(0)} GFLOP/s | ${(ortRate / kernelRate).toFixed(2)}x |`);
  backend.release(resident);
  session.dispose();
  await reference.release?.();
}
backend.dispose?.();
