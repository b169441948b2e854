import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getVariant, registerVariant, unregisterVariant } from '@deprune/masks';
import { buildZooModel } from '@deprune/zoo';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KERNEL_VARIANTS, kernelChartSpec, kernelReportMarkdown, machineLine, pairedDifference, renderVegaLiteSvg, runKernelSuite, runKernelSuiteInBrowser, writeKernelReport, type KernelRow, type KernelSuiteReport } from '../src/index';
import { chartProblems } from './chart-checks';

/** Two small blocks of MobileNetV3-Small, --quick: checks shapes and arithmetic, never timings. */
describe('runKernelSuite (quick, 2 blocks of MobileNetV3-Small)', () => {
  let report: KernelSuiteReport;
  let folder: string;
  const progress: string[] = [];

  beforeAll(async () => {
    folder = mkdtempSync(join(tmpdir(), 'deprune-bench-'));
    report = await runKernelSuite({
      model: buildZooModel('mobilenetv3-small', { seed: 0 }),
      modelName: 'zoo:mobilenetv3-small',
      mode: 'webasm',
      quick: true,
      layers: 'features.1.*,features.3.block.1.0',
      command: 'deprune bench --suite kernels --model zoo:mobilenetv3-small --quick',
      onProgress: (event) => progress.push(`${event.index}/${event.total}:${event.stage}`),
    });
  });
  afterAll(() => rmSync(folder, { recursive: true, force: true }));

  it('has every row: DW, PW and DSConv of every variant (DR: DW and DSConv)', () => {
    expect(report.layers.map((detail) => detail.layer)).toEqual(['features.1.block.0.0', 'features.3.block.1.0']);
    for (const detail of report.layers) {
      for (const variant of KERNEL_VARIANTS) {
        const ops = report.rows.filter((row) => row.layer === detail.layer && row.variant === variant).map((row) => row.op);
        expect(ops, `${detail.layer} ${variant}`).toEqual(variant === 'dr' ? ['dw', 'dsconv'] : ['dw', 'pw', 'dsconv']);
      }
    }
    expect(report.rows).toHaveLength(2 * (3 * 6 + 2));
    expect(progress.filter((event) => event.endsWith(':done'))).toEqual(['0/2:done', '1/2:done']);
    // webasm keeps data on the host: the pair runs as two calls, as the runtime runs it there.
    expect(report.settings.chain).toBe(false);
    expect(report.summary.unchainedOverChained).toBeNull();
    expect(report.rows.filter((row) => row.op === 'dsconv').every((row) => !row.kernel.startsWith('dsconv('))).toBe(true);
  });

  it('numbers are finite and positive; speedups are dense over variant; sparsity matches kept weights', () => {
    for (const row of report.rows) {
      for (const value of [row.medianMs, row.speedupVsDense, row.keptWeights, row.weights]) {
        expect(Number.isFinite(value) && value > 0, `${row.layer} ${row.op} ${row.variant}`).toBe(true);
      }
      expect(row.spreadMs).toBeGreaterThanOrEqual(0);
      const dense = report.rows.find((candidate) => candidate.layer === row.layer && candidate.op === row.op && candidate.variant === 'dense')!;
      // Relative: medians are rounded to 10 ns in the report, a visible share of a 10-microsecond call.
      expect(row.speedupVsDense / (dense.medianMs / row.medianMs)).toBeCloseTo(1, 2);
      expect(row.sparsity).toBeCloseTo(1 - row.keptWeights / row.weights, 5);
      if (row.variant === 'dense') expect(row.sparsity).toBe(0);
      // HSR (BH) only gives weights back: at most DEPrune-B's sparsity, never dense.
      else if (row.variant === 'deprune-bh') {
        const b = report.rows.find((candidate) => candidate.layer === row.layer && candidate.op === row.op && candidate.variant === 'deprune-b')!;
        expect(row.sparsity > 0 && row.sparsity <= b.sparsity && row.keptWeights >= b.keptWeights, `${row.layer} ${row.op}`).toBe(true);
      }
      else expect(Math.abs(row.sparsity - report.settings.ratio)).toBeLessThan(0.1);
    }
  });

  it('summary speedups are summed dense time over summed variant time', () => {
    for (const op of ['dw', 'pw', 'dsconv'] as const) {
      const summary = op === 'dw' ? report.summary.dwSpeedup : op === 'pw' ? report.summary.pwSpeedup : report.summary.dsconvSpeedup;
      for (const [variant, speedup] of Object.entries(summary)) {
        const rows = report.rows.filter((row) => row.op === op && row.variant === variant);
        const dense = rows.reduce((sum, row) => sum + report.rows.find((candidate) => candidate.layer === row.layer && candidate.op === op && candidate.variant === 'dense')!.medianMs, 0);
        const mine = rows.reduce((sum, row) => sum + row.medianMs, 0);
        expect(speedup, `${op} ${variant}`).toBeCloseTo(dense / mine, 3);
      }
    }
    expect(report.summary.dsconvSpeedup.dense).toBe(1);
    expect(report.summary.best.dsconvSpeedup).toBe(Math.max(...Object.values(report.summary.dsconvSpeedup)));
  });

  it('records the machine, settings, plans, HSR moves and staircases', () => {
    expect(report).toMatchObject({ suite: 'kernels', mode: 'webasm', model: 'zoo:mobilenetv3-small', command: expect.stringContaining('deprune bench') });
    expect(report.machine.cores).toBeGreaterThan(0);
    expect(report.machine.gpuJs).toBe('2.24.1');
    expect(report.settings).toMatchObject({ warmup: 1, repeats: 3, ratio: 0.56, groupSize: 32, tileRows: 4, step: 4, quick: true, hsrModel: 'measured' });
    const detail = report.layers[1];
    // 3x3 at r = 0.56: DEPrune-B keeps 4 of 9 taps in every channel (a step edge of t = 4).
    expect(detail.plans['deprune-b']!.dw).toMatchObject({ min: 4, max: 4, slots: 4 });
    expect(detail.plans['deprune-bh']!.dw.min).toBeGreaterThanOrEqual(4);
    expect(detail.hsr.dw).toMatchObject({ keptBefore: 4, measured: true });
    expect(detail.staircase.dw!.kept).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(report.summary.checks.bhNoSlowerThanB.keptAtLeast).toBe(true);
    expect(report.summary.checks.staircase.dwLayers).toBe(2);
    const ideal = report.summary.checks.dwIdeal;
    const bh = ideal.layers.filter((check) => check.variant === 'deprune-bh');
    expect(ideal.passFromMin).toBe(bh.length > 0 && bh.every((check) => check.fractionFromMin >= ideal.threshold));
    // The PW step is read off q = 0..16, timed twice as often as the rest.
    expect(detail.staircase.pw).toMatchObject({ windowCounts: 17, windowRepeats: 6 });
    expect(report.summary.checks.staircase.pwSteps).toEqual(report.layers.map((layer) => layer.staircase.pw!.foundStep));
  });

  it('compares DEPrune-BH with DEPrune-B round by round, and checks that HSR stayed within the stairs', () => {
    for (const row of report.rows) expect(row.samplesMs, `${row.layer} ${row.op} ${row.variant}`).toHaveLength(3);
    const check = report.summary.checks.bhNoSlowerThanB;
    const paired = pairedDifference(report.rows.filter((row) => row.op === 'dsconv'), 'deprune-bh', 'deprune-b');
    expect(check.pairedDiffMs).toBeCloseTo(paired.medianMs, 4);
    expect(check.pairedStandardErrorMs).toBeCloseTo(paired.standardErrorMs, 4);
    expect(check.significantlySlower).toBe(check.pairedDiffMs > check.significance * check.pairedStandardErrorMs);
    // HSR only raises a count to the top of its measured stair, which never spans a kernel edge.
    for (const detail of report.layers) {
      expect(detail.plans['deprune-bh']!.dw.slots, detail.layer).toBe(detail.plans['deprune-b']!.dw.slots);
      expect(detail.plans['deprune-bh']!.pw.slots, detail.layer).toBe(detail.plans['deprune-b']!.pw.slots);
    }
    expect(check).toMatchObject({ sameStairs: true, stairCrossings: [] });
    expect(check.pass).toBe(!check.significantlySlower && check.keptAtLeast && check.sameStairs);
  });

  it('writes JSON, Markdown and an SVG chart rendered by vega', async () => {
    const files = await writeKernelReport(report, folder);
    expect(files.json).toBe(join(folder, 'kernels', 'webasm', 'mobilenetv3-small-r0.56-quick.json'));
    for (const file of [files.json, files.markdown, files.chart]) expect(existsSync(file)).toBe(true);
    expect(JSON.parse(readFileSync(files.json, 'utf8'))).toEqual(JSON.parse(JSON.stringify(report)));
    const svg = readFileSync(files.chart, 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(chartProblems(svg)).toEqual([]);
    expect(svg).toContain('deprune-bh');
    const markdown = readFileSync(files.markdown, 'utf8');
    expect(markdown).toContain(report.command);
    expect(markdown).toContain(machineLine(report.machine));
    expect(markdown).toContain('3.74x');
    expect(markdown).toContain('](mobilenetv3-small-r0.56-quick.svg)');
    expect(kernelReportMarkdown(report)).not.toContain('.svg)');
  });

  it("never cuts a block's label in the chart, however wide the layer", async () => {
    // A block label as long as a big model's ('2: 3x3 C1440 280x280 s2,2 -> 240', 33 characters):
    // vega's canvas-free width estimate put such labels past a fixed 220 px limit.
    const wide = structuredClone(report);
    const detail = wide.layers[1];
    detail.dw.channels = 1440;
    detail.dw.outputShape = [1, 1440, 280, 280];
    detail.dw.strides = [2, 2];
    detail.pw.outChannels = 240;
    const svg = await renderVegaLiteSvg(kernelChartSpec(wide));
    expect(svg).toContain('2: 3x3 C1440 280x280 s2,2 -&gt; 240');
    expect(chartProblems(svg)).toEqual([]);
  });
});

describe('pairedDifference', () => {
  const row = (layer: string, variant: KernelRow['variant'], samplesMs: number[]): KernelRow => ({
    layer,
    op: 'dsconv',
    variant,
    node: layer,
    kernel: 'k',
    sparsity: 0.5,
    keptWeights: 1,
    weights: 2,
    medianMs: samplesMs[0],
    spreadMs: 0,
    minMs: Math.min(...samplesMs),
    samplesMs,
    speedupVsDense: 1,
  });

  it('sums per-block medians of the paired rounds: a slow round hits both variants and cancels', () => {
    // Round 2 was a slow spell for both variants; BH is 0.5 ms slower in every round of block a.
    const rows = [row('a', 'deprune-b', [10, 10, 30, 10, 10]), row('a', 'deprune-bh', [10.5, 10.5, 30.5, 10.5, 10.5]), row('b', 'deprune-b', [5, 6, 20, 5, 6]), row('b', 'deprune-bh', [5, 6, 20, 5, 6])];
    expect(pairedDifference(rows, 'deprune-bh', 'deprune-b')).toEqual({ medianMs: 0.5, standardErrorMs: 0, blocks: 2 });
    // Differences 2, -1, 1.5, 1, -1: median 1, median absolute deviation 1, so a standard error of
    // 1.2533 * 1.4826 / sqrt(5) = 0.83: BH's 1 ms is within 2 standard errors, i.e. noise.
    const noisy = [row('a', 'deprune-b', [10, 11, 9, 12, 8]), row('a', 'deprune-bh', [12, 10, 10.5, 13, 7])];
    const result = pairedDifference(noisy, 'deprune-bh', 'deprune-b');
    expect(result.medianMs).toBe(1);
    expect(result.standardErrorMs).toBeCloseTo((1.2533 * 1.4826) / Math.sqrt(5), 6);
    expect(result.medianMs).toBeLessThan(2 * result.standardErrorMs);
    // Blocks c and d each had two rounds where only BH's call was slowed, different rounds in each:
    // per block the median shrugs them off, while summing each round over the blocks first would
    // have had 4 of 5 round totals disturbed and put BH 40 ms behind.
    const disturbed = [
      ...rows,
      row('c', 'deprune-b', [3, 3, 3, 3, 3]),
      row('c', 'deprune-bh', [3, 43, 3, 43, 3]),
      row('d', 'deprune-b', [4, 4, 4, 4, 4]),
      row('d', 'deprune-bh', [44, 4, 44, 4, 4]),
    ];
    expect(pairedDifference(disturbed, 'deprune-bh', 'deprune-b').medianMs).toBe(0.5);
    expect(pairedDifference([], 'deprune-bh', 'deprune-b')).toEqual({ medianMs: 0, standardErrorMs: 0, blocks: 0 });
  });
});

/** The DSConv pair as one chained `dsconv` step (forced on in webasm): both forms timed in the same rounds. */
describe('runKernelSuite with chain: true (quick, 1 block)', () => {
  let report: KernelSuiteReport;
  beforeAll(async () => {
    report = await runKernelSuite({ model: buildZooModel('mobilenetv3-small', { seed: 0 }), mode: 'webasm', quick: true, includeDr: false, chain: true, layers: 'features.1.*' });
  });

  it("times dsconv chained for every variant and unchained for dense and DEPrune-BH, and reports the ratio", () => {
    expect(report.settings.chain).toBe(true);
    const dsconv = report.rows.filter((row) => row.op === 'dsconv');
    expect(dsconv.map((row) => row.kernel)).toEqual([
      'dsconv(dwDense + pwDense)', 'dsconv(dwDense + pwDense)', 'dsconv(dwDense + pwDense)', 'dsconv(dwSparse + pwSparse)', 'dsconv(dwSparse + pwSparse)', 'dsconv(dwSparse + pwSparse)',
    ]);
    const unchained = report.rows.filter((row) => row.op === 'dsconv-unchained');
    expect(unchained.map((row) => `${row.variant} ${row.kernel}`)).toEqual(['dense dwDense + pwDense', 'deprune-bh dwSparse + pwSparse']);
    expect(report.rows).toHaveLength(6 * 3 + 2);
    for (const variant of ['dense', 'deprune-bh'] as const) {
      const ratio = unchained.find((row) => row.variant === variant)!.medianMs / dsconv.find((row) => row.variant === variant)!.medianMs;
      expect(report.summary.unchainedOverChained?.[variant]).toBeCloseTo(ratio, 3);
    }
    // The DSConv speedups stay chained over chained.
    expect(report.summary.dsconvSpeedup.dense).toBe(1);
    expect(kernelReportMarkdown(report)).toMatch(/ran as one `dsconv` step with the DW result kept on the device[^\n]*took [\d.]+x as long for dense and [\d.]+x as long for deprune-bh/);
  });
});

describe('runKernelSuite in mode wasm (quick, 1 block)', () => {
  it("puts each block's inputs in wasm memory once and says so; a backend without memory of its own gets host tensors", async () => {
    const model = buildZooModel('mobilenetv3-small', { seed: 0 });
    const report = await runKernelSuite({ model, mode: 'wasm', quick: true, includeDr: false, layers: 'features.1.*' });
    expect(report.settings).toMatchObject({ residentInputs: true, chain: true });
    expect(report.rows.every((row) => Number.isFinite(row.medianMs) && row.medianMs > 0)).toBe(true);
    expect(kernelReportMarkdown(report)).toContain("inputs resident in the backend's memory (put there once, untimed)");
    const hostInputs = await runKernelSuite({ model, mode: 'webasm', quick: true, includeDr: false, layers: 'features.1.*' });
    expect(hostInputs.settings.residentInputs).toBe(false);
    expect(kernelReportMarkdown(hostInputs)).toContain('every timed call includes copying its input in');
  });

  it('says the inputs were host tensors where the wasm backend cannot keep them (a page that is not cross-origin isolated)', async () => {
    const globals = globalThis as { crossOriginIsolated?: boolean };
    const before = globals.crossOriginIsolated;
    globals.crossOriginIsolated = false;
    try {
      const report = await runKernelSuite({ model: buildZooModel('mobilenetv3-small', { seed: 0 }), mode: 'wasm', quick: true, includeDr: false, layers: 'features.1.*' });
      expect(report.settings.residentInputs).toBe(false);
    } finally {
      if (before === undefined) delete globals.crossOriginIsolated;
      else globals.crossOriginIsolated = before;
    }
  });
});

describe('runKernelSuite extraVariants', () => {
  const model = buildZooModel('mobilenetv3-small', { seed: 0, inputSize: 64 });
  it('takes registered variants by name: an unknown one names the closest, a standard or removal one is refused', async () => {
    await expect(runKernelSuite({ model, mode: 'webasm', quick: true, extraVariants: ['unstructred'] })).rejects.toThrow("unknown pruning variant 'unstructred'; did you mean 'unstructured'?");
    await expect(runKernelSuite({ model, mode: 'webasm', quick: true, extraVariants: ['deprune-b'] })).rejects.toThrow("extraVariants: 'deprune-b' is in the standard set already");
    registerVariant({ ...structuredClone(getVariant('channel')), name: 'my-channel' } as Parameters<typeof registerVariant>[0]);
    try {
      await expect(runKernelSuite({ model, mode: 'webasm', quick: true, extraVariants: ['my-channel'] })).rejects.toThrow("extraVariants: 'my-channel' removes channels");
    } finally {
      unregisterVariant('my-channel');
    }
  });

  it('the benchmark page refuses variants registered only in this process', async () => {
    await expect(runKernelSuiteInBrowser({ model, mode: 'webgl2', extraVariants: ['my-variant'] })).rejects.toThrow("extraVariants 'my-variant': variants registered in this process do not reach the benchmark page");
  });

  it("times a built-in outside the standard set (nm) on the kernels its plans run on: dense", async () => {
    const report = await runKernelSuite({ model, mode: 'webasm', quick: true, repeats: 1, warmup: 0, includeDr: false, layers: 'features.1.*', extraVariants: ['nm'] });
    expect(report.settings.extraVariants).toEqual(['nm']);
    expect(report.rows.filter((row) => row.variant === 'nm').map((row) => `${row.op} ${row.kernel}`)).toEqual(['dw dwDense', 'pw pwDense', 'dsconv dwDense + pwDense']);
    expect(report.rows.at(-1)?.variant).toBe('nm');
    expect(report.variants.nm).toContain('N:M');
    expect(report.layers[0].plans.nm).toMatchObject({ pw: { min: 8, max: 8, slots: null } });
    expect(report.summary.keptFraction.nm).toBeGreaterThan(0.4);
  });
});
