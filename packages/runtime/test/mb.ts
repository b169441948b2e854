import { getKernel, measureMedian } from '@deprune/gpu';
import { randomInput } from './helpers';
const x = randomInput([1, 480, 6, 80], 1); const w = randomInput([480, 480], 2);
for (const mode of ['webasm', 'cpu'] as const) {
  const k = getKernel('pwDense', mode);
  const m = await measureMedian(() => k(x, w, null), { warmup: 2, repeats: 5 });
  console.log(mode, m.medianMs.toFixed(1), 'ms', (110.6e6 / m.medianMs / 1e6).toFixed(2), 'GMAC/s');
}
const x2 = randomInput([1, 480, 1, 80*6], 1);
const m2 = await measureMedian(() => getKernel('pwDense', 'webasm')(x2, w, null), { warmup: 2, repeats: 5 });
console.log('as 1x480', m2.medianMs.toFixed(1));
