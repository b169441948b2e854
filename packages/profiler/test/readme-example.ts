import { createWasmBackend } from '@deprune/wasm';
import { measuredLatencyModel, profileLayers } from '../src/index';

// Any backend of the kernel contract: here the wasm one (a gpu.js mode: gpuKernelBackend(mode) of @deprune/gpu).
const backend = createWasmBackend();
const table = await profileLayers(
  [
    { kind: 'dw', name: 'block.dw', inputShape: [1, 32, 28, 28], kernel: [3, 3], pads: [1, 1, 1, 1] },
    { kind: 'dw', name: 'block.dw-dr', inputShape: [1, 32, 28, 28], kernel: [3, 3], unit: 'group', groupSize: 8 },
    { kind: 'pw', name: 'block.pw', inputShape: [1, 32, 28, 28], outChannels: 64 },
  ],
  { backend, warmup: 1, repeats: 3 },
);
backend.dispose();

console.log(table.backend, Object.keys(table.layers));
for (const [name, entry] of Object.entries(table.layers)) console.log(name, entry.kernel, `${entry.unit} 0..${entry.full}`, entry.latencyUs.every((us) => us > 0));
for (const skipped of table.meta.skipped) console.log('skipped', skipped.layer, '-', skipped.reason);

// What HSR and `prune()` take (or write the table to JSON for `deprune prune --hsr-table`).
console.log(measuredLatencyModel(table).name);
