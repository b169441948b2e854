import { UsageError } from '@deprune/errors';
import { imbalance, type LayerPlan } from '@deprune/masks';

export type BalanceUnit = 'group' | 'channel' | 'tile';

export interface BalanceReport {
  name: string;
  /** What a unit of parallel work is: a DW group of G channels, a DW channel, or a PW row tile. */
  unit: BalanceUnit;
  /** Channels per group (1 for 'channel') or rows per tile. */
  unitSize: number;
  /** Units compared: all full ones (a partial last group/tile is left out). */
  unitsCompared: number;
  /** max / mean of kept work per unit, before and after. */
  imbalanceBefore: number;
  imbalanceAfter: number;
  /** Weights kept in the whole layer, before and after. */
  keptBefore: number;
  keptAfter: number;
}

function countOnes(mask: Uint8Array): number {
  let kept = 0;
  for (let index = 0; index < mask.length; index++) kept += mask[index];
  return kept;
}

function checkPlan(plan: LayerPlan, what: string): void {
  if (plan === null || typeof plan !== 'object' || !(plan.mask instanceof Uint8Array)) {
    throw new UsageError(`balanceReport: ${what} must be a LayerPlan with its mask`);
  }
}

/**
 * Kept work of each unit of `unitSize` (channels for DW, rows for PW), from the plan's mask so any
 * strategy's plan can be measured. DW: kept taps in the group (its sub-GEMM inner dimension n_g).
 * PW: input columns that any row of the tile keeps (what the tile's gather kernel must load).
 * Returns the work of every unit and whether the last one is partial.
 */
export function workPerUnit(plan: LayerPlan, unitSize: number): { work: number[]; lastIsPartial: boolean } {
  checkPlan(plan, 'plan');
  if (!Number.isInteger(unitSize) || unitSize < 1) {
    throw new UsageError(`unit size must be an integer >= 1, got ${String(unitSize)}`, { node: plan.name });
  }
  const work: number[] = [];
  if (plan.kind === 'dw') {
    const channels = plan.shape.channels!;
    const taps = plan.shape.kernel![0] * plan.shape.kernel![1];
    for (let first = 0; first < channels; first += unitSize) {
      work.push(countOnes(plan.mask.subarray(first * taps, Math.min(channels, first + unitSize) * taps)));
    }
    return { work, lastIsPartial: channels % unitSize !== 0 };
  }
  const rows = plan.shape.outChannels!;
  const columns = plan.shape.inChannels!;
  for (let first = 0; first < rows; first += unitSize) {
    let used = 0;
    for (let column = 0; column < columns; column++) {
      for (let row = first; row < Math.min(rows, first + unitSize); row++) {
        if (plan.mask[row * columns + column]) {
          used++;
          break;
        }
      }
    }
    work.push(used);
  }
  return { work, lastIsPartial: rows % unitSize !== 0 };
}

/** The unit a plan is balanced at (for unbalanced DW plans: channels; PW: the plan's tiles). */
export function balanceUnitOf(plan: LayerPlan): { unit: BalanceUnit; unitSize: number } {
  if (plan.kind === 'pw') return { unit: 'tile', unitSize: plan.tileRows ?? plan.shape.outChannels! };
  if (plan.granularity === 'group' && plan.groupSize !== null) return { unit: 'group', unitSize: plan.groupSize };
  return { unit: 'channel', unitSize: 1 };
}

/** Imbalance over full units only: a partial last group/tile is expected to do less. */
function imbalanceOfFullUnits({ work, lastIsPartial }: { work: number[]; lastIsPartial: boolean }): number {
  return imbalance(lastIsPartial && work.length > 1 ? work.slice(0, -1) : work);
}

/**
 * Imbalance before and after BWT, measured at the granularity of `after` (its groups, channels or
 * tiles), so `before` can be any plan of the same layer (a DCP or plain PCP plan, typically).
 */
export function balanceReport(before: LayerPlan, after: LayerPlan): BalanceReport {
  checkPlan(before, 'before');
  checkPlan(after, 'after');
  if (before.name !== after.name || before.kind !== after.kind || before.mask.length !== after.mask.length) {
    throw new UsageError(`balanceReport needs two plans of the same layer, got '${before.name}' (${before.kind}) and '${after.name}' (${after.kind})`, {
      node: after.name,
    });
  }
  const { unit, unitSize } = balanceUnitOf(after);
  const workBefore = workPerUnit(before, unitSize);
  const workAfter = workPerUnit(after, unitSize);
  return {
    name: after.name,
    unit,
    unitSize,
    unitsCompared: workAfter.work.length - (workAfter.lastIsPartial && workAfter.work.length > 1 ? 1 : 0),
    imbalanceBefore: imbalanceOfFullUnits(workBefore),
    imbalanceAfter: imbalanceOfFullUnits(workAfter),
    keptBefore: countOnes(before.mask),
    keptAfter: countOnes(after.mask),
  };
}
