/**
 * A measured latency table (the GPU profiler's output) as part of a prune config: the table for
 * HSR, and the BWT settings it was measured for. A table counts kept elements per balanced unit
 * (taps per channel, taps per group of G, columns per tile of T rows); BWT must balance the same
 * unit, or the table's counts mean something else for the plan (hsr's `tableLatencyModel` then
 * refuses the layer). So the table's units become the config's `bwt` settings, and a setting the
 * user gave explicitly that contradicts them is refused here, naming the table's file.
 */
import { describeUnit, latencyTableUnits, validateLatencyTable, type LatencyTable, type SizedUnit } from '@deprune/hsr';
import { ConfigError, DEFAULT_GROUP_SIZE, type BwtConfig, type PruneConfig } from './config';

export type BwtSettingKey = keyof BwtConfig;

export interface LatencyTableConfigOptions {
  /** The table's file (or another label), named in every error. */
  file: string;
  /**
   * Where each explicit `bwt` setting of the config came from, for messages: e.g.
   * `{ groupSize: '--group-size 16' }` or `"bwt.groupSize in prune.json"`. Default `config key 'bwt.<key>'`.
   */
  origins?: Partial<Record<BwtSettingKey, string>>;
}

/** What the profiler records besides hsr's fields; only the kernels' step is used here. */
interface ProfilerMeta {
  meta?: { kernelStep?: unknown };
}

function profileHint(unit: SizedUnit): string {
  if (unit.unit === 'channel') return 'deprune profile --dw-unit channel';
  if (unit.unit === 'group') return `deprune profile --dw-unit group --group-size ${unit.size}`;
  return `deprune profile --tile-rows ${unit.size}`;
}

/**
 * `config` with `table` as HSR's latency table and the BWT settings the table was measured for
 * (`latencyTableUnits`): DW granularity 'channel' or 'group' with its G, PW tile rows T; and, when
 * the config has no `hsr.step`, the kernels' step from the table's `meta.kernelStep` (the analytic
 * staircase's step for layers the table lacks). Settings the table does not say stay as they are.
 * A `bwt` setting already in `config` that differs from the table's is a ConfigError naming the
 * file: the user asked for one unit and measured another.
 */
export function withLatencyTable(config: PruneConfig, table: unknown, options: LatencyTableConfigOptions): PruneConfig {
  const { file } = options;
  let units: ReturnType<typeof latencyTableUnits>;
  try {
    validateLatencyTable(table as LatencyTable);
    units = latencyTableUnits(table as LatencyTable);
  } catch (cause) {
    throw new ConfigError(`is not a usable latency table: ${(cause as Error).message}`, { file, key: 'hsr.table', hint: "give a table written by 'deprune profile'", cause });
  }
  const bwt: BwtConfig = { ...config.bwt };
  const origin = (key: BwtSettingKey) => options.origins?.[key] ?? `config key 'bwt.${key}'`;
  const refuse = (key: BwtSettingKey, measured: SizedUnit, asked: string): never => {
    throw new ConfigError(`the latency table measured the ${measured.unit === 'tile' ? 'PW' : 'DW'} layers ${describeUnit(measured)}, but ${origin(key)} asks for ${asked}`, {
      file,
      key: `bwt.${key}`,
      hint: `drop ${origin(key)} (the table sets it), or make a table for that setting with ${profileHint(unitAskedFor(key, bwt, measured))}`,
    });
  };
  if (units.dw !== null) {
    const granularity = units.dw.unit === 'group' ? 'group' : 'channel';
    if (bwt.granularity !== undefined && bwt.granularity !== granularity) refuse('granularity', units.dw, `granularity '${bwt.granularity}'`);
    if (granularity === 'group') {
      if (bwt.groupSize !== undefined && bwt.groupSize !== units.dw.size) refuse('groupSize', units.dw, `groups of ${bwt.groupSize} channels`);
      bwt.groupSize = units.dw.size;
    }
    bwt.granularity = granularity;
  }
  if (units.pw !== null) {
    if (bwt.tileRows !== undefined && bwt.tileRows !== units.pw.size) refuse('tileRows', units.pw, `tiles of ${bwt.tileRows} rows`);
    bwt.tileRows = units.pw.size;
  }
  const kernelStep = (table as ProfilerMeta).meta?.kernelStep;
  const step = config.hsr?.step ?? (Number.isInteger(kernelStep) && (kernelStep as number) >= 1 ? (kernelStep as number) : undefined);
  return {
    ...config,
    bwt,
    hsr: { ...config.hsr, table: structuredClone(table) as LatencyTable, ...(step === undefined ? {} : { step }) },
  };
}

/** The unit the user's explicit setting asks for (what a matching table would have to measure). */
function unitAskedFor(key: BwtSettingKey, bwt: BwtConfig, measured: SizedUnit): SizedUnit {
  if (key === 'tileRows') return { unit: 'tile', size: bwt.tileRows ?? measured.size };
  if (key === 'granularity' && bwt.granularity === 'channel') return { unit: 'channel', size: 1 };
  return { unit: 'group', size: bwt.groupSize ?? DEFAULT_GROUP_SIZE };
}
