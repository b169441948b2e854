/**
 * Plan entry -> the kept indices a kernel backend's table builders take. The backends know nothing
 * of masks or plan files (`@deprune/kernels`' `DwKeptTaps`, `PwKeptColumns`); the runtime, which
 * reads plans, converts here. Each entry is checked against its own shape first (masks'
 * `maskFromPlanEntry`: counts, ranges, order), so a bad entry is refused naming the layer.
 */
import { maskFromPlanEntry, type LayerPlanEntry } from '@deprune/masks';
import { UsageError } from '@deprune/errors';
import type { DwKeptTaps, PwKeptColumns } from '@deprune/kernels';

/** A DW plan entry's kept taps per channel, its HSR step and (group/channel plans) its group size. */
export function keptTapsOf(entry: LayerPlanEntry): DwKeptTaps {
  if (entry?.kind !== 'dw') throw new UsageError(`keptTapsOf needs a DW plan entry, got kind '${String(entry?.kind)}'`, { node: entry?.name });
  maskFromPlanEntry(entry);
  const { channels, kernel } = entry.shape;
  return {
    name: entry.name,
    channels: channels!,
    kernel: [kernel![0], kernel![1]],
    keptTaps: entry.keptIndices,
    step: entry.step,
    // Only a balanced plan's group is a DR group; other plans leave G to the backend's default.
    groupSize: entry.granularity === 'group' || entry.granularity === 'channel' ? entry.groupSize : null,
  };
}

/** A PW plan entry's kept input columns per row tile, its tile height and HSR step. */
export function keptColumnsOf(entry: LayerPlanEntry): PwKeptColumns {
  if (entry?.kind !== 'pw') throw new UsageError(`keptColumnsOf needs a PW plan entry, got kind '${String(entry?.kind)}'`, { node: entry?.name });
  maskFromPlanEntry(entry);
  return {
    name: entry.name,
    outChannels: entry.shape.outChannels!,
    inChannels: entry.shape.inChannels!,
    tileRows: entry.tileRows!,
    keptColumns: entry.keptIndices,
    step: entry.step,
  };
}

/**
 * The sparse kernel a plan entry runs on, or null when its zeros run dense: DCP entries (DEPrune,
 * -B, -BH, and any variant whose DW recipe is `dcp`) on `dwSparse`, PCP entries on `pwSparse`.
 * Unstructured, N:M, channel and dense entries have no kernel that could skip their zeros. What the
 * session compiles (a PW conv also needs stride 1 and no pads), and what the kernel bench times.
 */
export function sparseKernelOf(entry: Pick<LayerPlanEntry, 'kind' | 'strategy'>): 'dwSparse' | 'pwSparse' | null {
  if (entry.kind === 'dw') return entry.strategy === 'dcp' ? 'dwSparse' : null;
  return entry.strategy === 'pcp' ? 'pwSparse' : null;
}
