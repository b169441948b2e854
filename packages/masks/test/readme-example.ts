import { imbalance, listStrategies, maskFromPlanEntry, maskLayer, planEntryToJson, type DwLayer } from '../src/index';

// A 3x3 depth-wise layer with 4 channels: effective (BN-folded) weights, row-major [c * 9 + tap].
const weights = Float64Array.from({ length: 4 * 9 }, (_, index) => Math.sin(index + 1) * (1 + (index % 7)));
const layer: DwLayer = { kind: 'dw', name: 'blocks.1.dw', channels: 4, kernel: [3, 3], weights };

// DCP at 50%: the 18 lowest |w| of the layer go, wherever they are.
const plan = maskLayer(layer, { strategy: 'dcp', ratio: 0.5 });
console.log(plan.kept); // kept taps per channel
console.log(imbalance(plan.kept).toFixed(2)); // max / mean work per channel

// The plan file stores the entry without the mask; the entry alone rebuilds it.
const entry = JSON.parse(JSON.stringify(planEntryToJson(plan)));
console.log(maskFromPlanEntry(entry).every((bit, index) => bit === plan.mask[index]));
console.log(listStrategies().map((strategy) => strategy.name).join(' '));
