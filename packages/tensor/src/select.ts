import { UsageError } from '@deprune/errors';

/**
 * k-th value selection for pruning thresholds: "prune the lowest round(r * n) scores" needs the
 * cut-off score, not a full sort. Floyd-Rivest selection (as in Vladimir Agafonkin's
 * `quickselect`) runs in O(n) on average. Inputs are copied first: callers pass score arrays
 * they still need in their original order.
 */

/** Copies into a Float64Array and rejects NaN, which has no place in an ordering. */
function copyForSelection(values: ArrayLike<number>, what: string): Float64Array {
  const copy = new Float64Array(values.length);
  for (let index = 0; index < values.length; index++) {
    const value = values[index];
    if (Number.isNaN(value)) {
      throw new UsageError(`${what}: values[${index}] is NaN; selection needs comparable numbers`);
    }
    copy[index] = value;
  }
  return copy;
}

function assertRankInRange(what: string, k: number, length: number): void {
  if (!Number.isInteger(k) || k < 0 || k >= length) {
    throw new UsageError(`${what}: k must be an integer in [0, ${length - 1}] for ${length} values, got ${String(k)}`);
  }
}

function swap(values: Float64Array, a: number, b: number): void {
  const held = values[a];
  values[a] = values[b];
  values[b] = held;
}

/** Rearranges `values[left..right]` so that `values[k]` holds the value it would have if sorted. */
function floydRivestSelect(values: Float64Array, k: number, left: number, right: number): void {
  while (right > left) {
    // On large ranges, first narrow to a sample window that very likely contains the k-th value.
    if (right - left > 600) {
      const count = right - left + 1;
      const rankInRange = k - left + 1;
      const logCount = Math.log(count);
      const sampleSize = 0.5 * Math.exp((2 * logCount) / 3);
      const deviation =
        0.5 * Math.sqrt((logCount * sampleSize * (count - sampleSize)) / count) * (rankInRange - count / 2 < 0 ? -1 : 1);
      const sampleLeft = Math.max(left, Math.floor(k - (rankInRange * sampleSize) / count + deviation));
      const sampleRight = Math.min(right, Math.floor(k + ((count - rankInRange) * sampleSize) / count + deviation));
      floydRivestSelect(values, k, sampleLeft, sampleRight);
    }
    const pivot = values[k];
    let low = left;
    let high = right;
    swap(values, left, k);
    if (values[right] > pivot) swap(values, left, right);
    while (low < high) {
      swap(values, low, high);
      low++;
      high--;
      while (values[low] < pivot) low++;
      while (values[high] > pivot) high--;
    }
    if (values[left] === pivot) {
      swap(values, left, high);
    } else {
      high++;
      swap(values, high, right);
    }
    if (high <= k) left = high + 1;
    if (k <= high) right = high - 1;
  }
}

/** The value at 0-based position k of the ascending order. Does not mutate `values`. */
export function kthSmallest(values: ArrayLike<number>, k: number): number {
  assertRankInRange('kthSmallest', k, values.length);
  const copy = copyForSelection(values, 'kthSmallest');
  floydRivestSelect(copy, k, 0, copy.length - 1);
  return copy[k];
}

/** The value at 0-based position k of the descending order (k = 0 is the maximum). */
export function kthLargest(values: ArrayLike<number>, k: number): number {
  assertRankInRange('kthLargest', k, values.length);
  const copy = copyForSelection(values, 'kthLargest');
  const ascendingRank = copy.length - 1 - k;
  floydRivestSelect(copy, ascendingRank, 0, copy.length - 1);
  return copy[ascendingRank];
}

/**
 * Indices of the k largest values, ascending by index. Among values equal to the cut-off the
 * lower indices win, so the result is deterministic with ties. One selection for the cut-off
 * and one scan in index order; the scan emits indices already sorted, so no sort is needed.
 */
export function topKIndices(values: ArrayLike<number>, k: number): Int32Array {
  const length = values.length;
  if (!Number.isInteger(k) || k < 0 || k > length) {
    throw new UsageError(`topKIndices: k must be an integer in [0, ${length}] for ${length} values, got ${String(k)}`);
  }
  if (k === 0) {
    // Still reject NaN so the outcome does not depend on k.
    copyForSelection(values, 'topKIndices');
    return new Int32Array(0);
  }
  const copy = copyForSelection(values, 'topKIndices');
  const ascendingRank = length - k;
  floydRivestSelect(copy, ascendingRank, 0, length - 1);
  const cutoff = copy[ascendingRank];

  let aboveCutoff = 0;
  for (let index = 0; index < length; index++) {
    if (values[index] > cutoff) aboveCutoff++;
  }
  let tiesToTake = k - aboveCutoff;
  const result = new Int32Array(k);
  let filled = 0;
  for (let index = 0; index < length && filled < k; index++) {
    const value = values[index];
    if (value > cutoff) {
      result[filled++] = index;
    } else if (value === cutoff && tiesToTake > 0) {
      result[filled++] = index;
      tiesToTake--;
    }
  }
  return result;
}
