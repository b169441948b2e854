import { existsSync } from 'node:fs';
import { UsageError } from '@deprune/errors';
import type { ProfiledLatencyTable } from '@deprune/profiler';
import { helpHint, outputFlag, repeatsFlag } from '../args';
import { modelNamesText } from '../models';
import { formatTable } from '../output';
import type { Command } from '../registry';
import { checkOutputPath, refuseOutputsOverInputs } from '../files';
import { loadModelWithShapes, MODE_NAMES, resolveBackendFlag } from './kernel-common';

const DW_UNITS = ['channel', 'group'] as const;

/** The per-layer summary printed (human) and returned (--json). */
function layerSummary(table: ProfiledLatencyTable) {
  return Object.entries(table.layers).map(([name, entry]) => ({
    name,
    kind: entry.kind,
    kernel: entry.kernel,
    unit: entry.unit,
    full: entry.full,
    counts: entry.kept.length,
    step: entry.step,
    fitR2: entry.fitR2,
    latencyUsAtZero: entry.latencyUs[0],
    latencyUsAtFull: entry.latencyUs[entry.latencyUs.length - 1],
  }));
}

export const profileCommand: Command = {
  name: 'profile',
  summary: "measure the sparse kernels' latency for every DW/PW layer of a model: a latency table for HSR",
  usage: ['profile <model> --mode M -o <table.json> [--input-shape 1,3,H,W] [--quick] [--layers pattern] [--dw-unit channel|group] [--force] [--json]'],
  description: `
Times the real sparse kernels of one backend (--mode: the wasm backend, @deprune/wasm, or a
gpu.js mode of @deprune/gpu; auto is wasm in Node) with @deprune/profiler, on random inputs of
each layer's shape, for every DW and PW conv the pruner prunes (squeeze-excitation convs
excluded): dwSparse with every channel keeping m = 0..K taps (--dw-unit group: dwDiagonal, n
taps per group of G; the wasm backend has no dwDiagonal, so there those layers are skipped
and listed as such),
pwSparse with every row tile of T rows keeping q input columns (every q up to 16, then the
top of every stair up to Cin). Each count: warm-up calls, then timed calls interleaved
with the layer's other counts; the median is kept. The staircase step is found by a
least-squares staircase fit, and the table (@deprune/hsr's LatencyTable: { backend, mode,
layers: { name: { kept, latencyUs, step } } } plus how it was measured) is written
atomically to -o. An existing file is refused without --force. Progress goes to stderr.
Use it with deprune prune --hsr-table <table.json>, which also takes the BWT unit the table
was measured for (channel, or group with --group-size G; tiles of --tile-rows T).`,
  args: [{ name: 'model', description: `an .onnx file, or one of ${modelNamesText()} (zoo names may omit 'zoo:')` }],
  flags: {
    output: outputFlag('table.json', 'where to write the latency table'),
    mode: { type: 'string', value: 'M', description: `backend: ${MODE_NAMES.join(' | ')} (default auto: wasm in Node)` },
    'input-shape': { type: 'string', multiple: true, value: 'shape', description: 'input shape as 1,3,H,W; with several inputs name=1,3,H,W' },
    quick: { type: 'boolean', description: 'fewer timed calls (1 warm-up, 3 timed): a rough table, fast' },
    layers: { type: 'string', value: 'pattern', description: 'only layers whose node name matches these globs (comma separated, * and ?)' },
    'dw-unit': { type: 'string', value: 'unit', description: "DW table unit: 'channel' (m taps per channel, dwSparse; default) or 'group' (n taps per group, dwDiagonal)" },
    'group-size': { type: 'string', value: 'G', description: 'channels per DW group for --dw-unit group (default 32)' },
    'tile-rows': { type: 'string', value: 'T', description: 'PW output rows per tile (default 4, as BWT)' },
    step: { type: 'string', value: 't', description: "chunk size the kernels are built with (default 4, the kernels' default)" },
    repeats: repeatsFlag('timed calls per kept count (default 7; --quick 3)'),
    force: { type: 'boolean', short: 'f', description: 'overwrite the output file if it exists' },
  },
  examples: [
    'deprune profile zoo:mobilenetv2 --mode wasm -o mnv2-wasm.json',
    'deprune profile zoo:mobilenetv2 --mode webasm -o mnv2-webasm.json',
    'deprune profile ppocr-det --mode cpu -o det-cpu.json --layers "p2o.Conv.1*" --quick --json',
  ],
  async run({ args, out }) {
    const spec = args.positional(0);
    if (spec === undefined) throw new UsageError('missing <model>', { hint: helpHint('profile') });
    const output = args.string('output');
    if (output === undefined) throw new UsageError('missing --output <table.json>', { hint: helpHint('profile') });
    const dwUnit = args.string('dw-unit') ?? 'channel';
    if (!(DW_UNITS as readonly string[]).includes(dwUnit)) throw new UsageError(`--dw-unit must be one of ${DW_UNITS.join(', ')}, got '${dwUnit}'`, { hint: helpHint('profile') });
    const groupSize = args.integer('group-size', { min: 1 });
    const tileRows = args.integer('tile-rows', { min: 1 });
    const step = args.integer('step', { min: 1 });
    const quick = args.boolean('quick');
    const repeats = args.integer('repeats', { min: 1 }) ?? (quick ? 3 : 7);
    checkOutputPath(output, args.boolean('force'));
    const outputs = [{ path: output, role: '--output table' }];
    refuseOutputsOverInputs(outputs, [existsSync(spec) ? { path: spec, role: 'input model' } : undefined]);
    const { mode, reason } = await resolveBackendFlag(args.string('mode'), 'profile');
    out.debug(`mode ${mode}: ${reason}`);
    const { resolved, inputShapes } = await loadModelWithShapes(spec, args.strings('input-shape'));
    if (resolved.file !== null) refuseOutputsOverInputs(outputs, [{ path: resolved.file, role: 'input model' }]);
    const { machineInfo, machineLine, modelProfileLayers, profileLayers } = await import('@deprune/profiler');
    const layers = modelProfileLayers(resolved.model, {
      inputShapes,
      ...(args.has('layers') ? { layers: args.string('layers')! } : {}),
      dwUnit: dwUnit as (typeof DW_UNITS)[number],
      ...(groupSize === undefined ? {} : { groupSize }),
      ...(tileRows === undefined ? {} : { tileRows }),
    });
    if (layers.length === 0) {
      throw new UsageError(args.has('layers') ? `no DW or PW layer matches --layers '${args.string('layers')}'` : 'the model has no DW or PW conv to profile', { file: resolved.file ?? spec });
    }
    const progress = out.progress(`profiling ${spec} (${mode})`, layers.length);
    const { createKernelBackend } = await import('@deprune/runtime');
    const gpu = await import('@deprune/gpu');
    const backend = await createKernelBackend(mode);
    // How the table names the backend: 'wasm', or 'gpu.js-<mode>' as tables always have.
    const isGpu = gpu.isGpuMode(mode);
    const simd = (backend as { simd?: string }).simd === 'relaxed' ? 'relaxed SIMD (FMA)' : 'SIMD';
    let table: ProfiledLatencyTable;
    try {
      table = await profileLayers(layers, {
        backend,
        backendName: isGpu ? `gpu.js-${mode}` : mode,
        backendDetail: isGpu ? `gpu.js ${gpu.GPU_JS_VERSION}` : `WebAssembly ${simd}`,
        // Frees each layer's compiled gpu.js kernels; the wasm backend frees as it goes.
        ...(isGpu ? { afterLayer: () => gpu.disposeBackend(mode) } : {}),
        warmup: 1,
        repeats,
        ...(step === undefined ? {} : { kernelStep: step }),
        ...(quick ? { stepWindow: 12 } : {}),
        machine: machineLine({ ...machineInfo(), ...(isGpu ? { gpuJs: gpu.GPU_JS_VERSION } : {}) }),
        onProgress: (event) =>
          progress.update(event.layerIndex + (event.phase === 'done' || event.phase === 'skipped' ? 1 : 0), `${event.layer} (${event.phase === 'skipped' ? 'skipped' : `${event.phase} ${event.round}/${event.rounds}`})`),
      });
    } finally {
      if (isGpu) await gpu.disposeBackend();
      else backend.dispose?.();
    }
    const skipped = table.meta.skipped;
    progress.done(`profiled ${layers.length - skipped.length} layer(s) of ${spec} in ${mode} (${table.meta.seconds} s)${skipped.length > 0 ? `, skipped ${skipped.length}` : ''}`);
    const { writeFileAtomic } = await import('@deprune/onnx/node');
    writeFileAtomic(output, `${JSON.stringify(table, null, 2)}\n`);
    const summary = layerSummary(table);
    out.result({ output, backend: table.backend, mode: table.mode, meta: table.meta, layers: summary, skipped });
    // Said once per kernel: a DR profile on wasm skips every DW layer for the same reason.
    for (const reason of new Set(skipped.map((layer) => layer.reason))) {
      const names = skipped.filter((layer) => layer.reason === reason).map((layer) => layer.layer);
      out.warn(`skipped ${names.length} layer(s) (${names.slice(0, 3).join(', ')}${names.length > 3 ? ', ...' : ''}): ${reason}`);
    }
    if (!out.json) {
      out.print(`wrote ${output}: latency table of ${summary.length} layer(s), ${table.backend}, ${table.meta.repeats} timed calls per count`);
      out.print();
      out.print(
        formatTable(
          ['layer', 'kind', 'kernel', 'unit', 'counts', 'step', 'fit R2', 'L(0) us', 'L(full) us'],
          summary.map((layer) => [
            layer.name,
            layer.kind,
            layer.kernel,
            `${layer.unit} (0..${layer.full})`,
            String(layer.counts),
            String(layer.step),
            layer.fitR2.toFixed(3),
            layer.latencyUsAtZero.toFixed(1),
            layer.latencyUsAtFull.toFixed(1),
          ]),
          { align: ['left', 'left', 'left', 'left', 'right', 'right', 'right', 'right', 'right'] },
        ),
      );
    }
    return 0;
  },
};
