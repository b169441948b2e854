import { UsageError } from '@deprune/errors';

/**
 * Load imbalance of parallel units: `max / mean` of their kept work. 1 means perfectly balanced
 * (a batched kernel pads nothing); 2 means the slowest unit does twice the average. Defined as 1
 * for no units and for all-zero work (nothing to wait for).
 */
export function imbalance(keptWork: ArrayLike<number>): number {
  let max = 0;
  let sum = 0;
  for (let index = 0; index < keptWork.length; index++) {
    const work = keptWork[index];
    if (typeof work !== 'number' || !Number.isFinite(work) || work < 0) {
      throw new UsageError(`imbalance: work[${index}] must be a finite number >= 0, got ${String(work)}`);
    }
    max = Math.max(max, work);
    sum += work;
  }
  if (keptWork.length === 0 || sum === 0) return 1;
  return max / (sum / keptWork.length);
}
