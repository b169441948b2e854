import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listLayers } from '@deprune/onnx';
import { loadModel } from '@deprune/onnx/node';
import { cleanup, listFiles, runCli, runJson, tempDir } from './helpers';

interface PruneDocument {
  output: { model: string; plan: string };
  report: {
    variant: string;
    layers: { name: string; kind: string; strategy: string; sparsity: number }[];
    totals: { paramsBefore: number; paramsAfter: number; nonzeroAfter: number; dsconvSparsity: number; dwSparsity: number; pwSparsity: number; macsBefore: number | null; macsAfter: number | null };
    skipped: { name: string; reason: string }[];
    warnings: string[];
    hsr?: { mode: string };
  };
}

interface PlanFile {
  format: string;
  version: number;
  variant: string;
  config: { variant: string; ratio: number; dwRatio: number; pwRatio: number; inputShapes: Record<string, number[]> | null };
  layers: { name: string; kind: string; strategy: string; kept: number[]; keptIndices: number[][]; removedChannels?: number[] }[];
  physical: { removals: { dw: string; channels: number[] }[] } | null;
}

const VARIANTS = ['deprune', 'deprune-b', 'deprune-bh', 'channel', 'unstructured', 'nm'];

function expectUsageError(result: ReturnType<typeof runCli>, pattern: RegExp): void {
  expect(result.status, result.stderr).toBe(2);
  expect(result.stdout).toBe('');
  const lines = result.stderr.trimEnd().split('\n');
  expect(lines, result.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^deprune: /);
  expect(lines[0]).toMatch(pattern);
}

describe('deprune prune', () => {
  let folder: string;
  let input: string;
  beforeAll(() => {
    folder = tempDir();
    input = join(folder, 'mnv2.onnx');
    expect(runCli(['zoo', 'mobilenetv2', '-o', input]).status).toBe(0);
  });
  afterAll(() => cleanup(folder));

  for (const variant of VARIANTS) {
    it(`--variant ${variant} on zoo:mobilenetv2 writes a model that loads and a plan that names its layers`, () => {
      const out = join(folder, `${variant}.onnx`);
      const { document, result } = runJson<PruneDocument>(['prune', 'zoo:mobilenetv2', '-o', out, '--variant', variant]);
      expect(document.output).toEqual({ model: out, plan: join(folder, `${variant}.deprune.json`) });
      expect(result.stderr).toMatch(/pruned zoo:mobilenetv2/); // progress on stderr, never stdout
      const pruned = loadModel(out);
      const plan = JSON.parse(readFileSync(document.output.plan, 'utf8')) as PlanFile;
      expect(plan).toMatchObject({ format: 'deprune-plan', version: 1, variant });
      const layers = new Map(listLayers(pruned).map((layer) => [layer.name, layer]));
      for (const entry of plan.layers) expect(layers.get(entry.name)?.kind, entry.name).toBe(entry.kind);
      expect(plan.layers.filter((entry) => entry.kind === 'dw').map((entry) => entry.name)).toEqual(
        [...layers.values()].filter((layer) => layer.kind === 'dw').map((layer) => layer.name),
      );
      expect(document.report.variant).toBe(variant);
      expect(document.report.layers.map((layer) => layer.name)).toEqual(plan.layers.map((entry) => entry.name));
      const { totals } = document.report;
      expect(totals.dsconvSparsity).toBeGreaterThan(0.4);
      expect(totals.macsAfter!).toBeLessThan(totals.macsBefore!);
      if (variant === 'channel') {
        expect(totals.paramsAfter).toBeLessThan(totals.paramsBefore);
        expect(plan.physical!.removals).toHaveLength(17);
        expect(layers.get('features.2.conv.1.0')!.outChannels).toBe(96 - 48);
      } else {
        expect(totals.paramsAfter).toBe(totals.paramsBefore);
        expect(plan.physical).toBeNull();
      }
      if (variant === 'deprune-bh') expect(document.report.hsr?.mode).toBe('recover');
    });
  }

  it('human output: a summary table, the top layers, the skipped ones', () => {
    const out = join(folder, 'human.onnx');
    const result = runCli(['prune', input, '-o', out, '--variant', 'channel', '--ratio', '0.25']);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toContain(`Pruned ${input} with channel (dw ratio 0.25, pw ratio 0.25)`);
    expect(result.stdout).toContain(`wrote ${out} and ${join(folder, 'human.deprune.json')}`);
    expect(result.stdout).toMatch(/layers pruned\s+17 dw, 17 pw \(17 skipped\)/);
    expect(result.stdout).toMatch(/parameters\s+3,470,760 -> [\d,]+ stored/);
    expect(result.stdout).toMatch(/MACs \(effective\)\s+300\.8M -> /);
    expect(result.stdout).toMatch(/Layers \(34; the 10 with most weights removed\)/);
    expect(result.stdout).toMatch(/Skipped \(17\)\n/);
    expect(result.stdout).toContain("variant 'channel' prunes a PW layer only");
    expect(result.stdout).toContain('... 5 more (--json lists all)');
  });

  it('--config is read, and flags override its values', () => {
    const config = join(folder, 'prune.json');
    writeFileSync(config, JSON.stringify({ variant: 'unstructured', ratio: 0.3, pwRatio: 0.8, ignore: ['features.18.*'], layers: { 'features.1.*': { ratio: 0 } } }));
    const fromFile = runJson<PruneDocument>(['prune', 'zoo:mobilenetv2', '-o', join(folder, 'cfg.onnx'), '--config', config]).document;
    expect(fromFile.report.variant).toBe('unstructured');
    expect(fromFile.report.totals.pwSparsity).toBeGreaterThan(0.75);
    expect(fromFile.report.skipped).toContainEqual({ name: 'features.18.0', reason: "ignored (ignore pattern 'features.18.*')" });
    expect(fromFile.report.layers.find((layer) => layer.name === 'features.1.conv.0.0')).toMatchObject({ strategy: 'dense', sparsity: 0 });

    const overridden = runJson<PruneDocument>(['prune', 'zoo:mobilenetv2', '-o', join(folder, 'cfg2.onnx'), '--config', config, '--variant', 'deprune-b', '--ratio', '0.6', '--dw', '0.4']).document;
    const plan = JSON.parse(readFileSync(join(folder, 'cfg2.deprune.json'), 'utf8')) as PlanFile;
    expect(plan.config).toMatchObject({ variant: 'deprune-b', ratio: 0.6, dwRatio: 0.4, pwRatio: 0.6 }); // --ratio replaced the file's pwRatio
    // BWT balances per channel (the default): every 3x3 DW channel keeps round(0.6 * 9) = 5 of 9 taps.
    expect(overridden.report.totals.dwSparsity).toBeCloseTo(4 / 9, 2);
    expect(overridden.report.skipped).toContainEqual({ name: 'features.18.0', reason: "ignored (ignore pattern 'features.18.*')" });
  });

  it('a bundled model prunes with its default input shape; --input-shape overrides it', () => {
    // --no-calib: the default calibration on rendered images is prune-defaults.test.ts's subject.
    const { document } = runJson<PruneDocument>(['prune', 'ppocr-cls', '-o', join(folder, 'cls.onnx'), '--variant', 'deprune-b', '--no-calib']);
    expect(document.report.totals.macsBefore).toBe(16_314_976);
    expect(document.report.warnings).toEqual([expect.stringMatching(/^accuracy was not checked/)]);
    const plan = JSON.parse(readFileSync(join(folder, 'cls.deprune.json'), 'utf8')) as PlanFile;
    expect(plan.config.inputShapes).toEqual({ x: [1, 3, 48, 192] });
    runJson(['prune', 'ppocr-cls', '-o', join(folder, 'cls2.onnx'), '--variant', 'nm', '--input-shape', '1,3,48,96', '--no-calib']);
    const plan2 = JSON.parse(readFileSync(join(folder, 'cls2.deprune.json'), 'utf8')) as PlanFile;
    expect(plan2.config.inputShapes).toEqual({ x: [1, 3, 48, 96] });
  });

  it('refuses existing outputs without --force, replaces them with it', () => {
    const out = join(folder, 'exists.onnx');
    writeFileSync(out, 'precious');
    const refused = runCli(['prune', input, '-o', out]);
    expectUsageError(refused, new RegExp(`${out.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: already exists; not overwriting it \\(pass --force`));
    expect(readFileSync(out, 'utf8')).toBe('precious');
    // The plan path counts too.
    const planOnly = join(folder, 'planexists.deprune.json');
    writeFileSync(planOnly, '{}');
    expectUsageError(runCli(['prune', input, '-o', join(folder, 'planexists.onnx')]), /planexists\.deprune\.json: already exists/);
    expect(() => statSync(join(folder, 'planexists.onnx'))).toThrow();
    const forced = runCli(['prune', input, '-o', out, '--force', '--variant', 'unstructured']);
    expect(forced.status, forced.stderr).toBe(0);
    expect(loadModel(out).proto.graph?.node?.length).toBeGreaterThan(0);
  });

  it('never writes over the input model, whichever output would hit it', () => {
    const original = readFileSync(input);
    expectUsageError(runCli(['prune', input, '-o', input, '--force']), /refusing to write the pruned model over the input model/);
    // A model file named like a plan: -o x.onnx would put the plan on it.
    const planNamed = join(folder, 'odd.deprune.json');
    writeFileSync(planNamed, original);
    expectUsageError(runCli(['prune', planNamed, '-o', join(folder, 'odd.onnx'), '--force']), /refusing to write the plan over the input model/);
    expect(readFileSync(input).equals(original)).toBe(true);
    expect(readFileSync(planNamed).equals(original)).toBe(true);
  });

  it('bad flags, bad configs and missing files exit 2 with one line and write nothing', () => {
    const sandbox = tempDir();
    try {
      writeFileSync(join(sandbox, 'broken.json'), '{ "variant": "deprune", ');
      writeFileSync(join(sandbox, 'unknown-key.json'), JSON.stringify({ variant: 'deprune', ratoi: 0.5 }));
      writeFileSync(join(sandbox, 'bad-ratio.json'), JSON.stringify({ variant: 'deprune', layers: { 'features.*': { ratio: 1.5 } } }));
      writeFileSync(join(sandbox, 'array.json'), '[1]');
      const before = listFiles(sandbox);
      const cases: [string[], RegExp][] = [
        [['prune', input, '-o', 'x.onnx', '--ratio', '1.5'], /--ratio must be a number in \[0, 1\) \(the fraction of weights removed\), got '1\.5'/],
        [['prune', input, '-o', 'x.onnx', '--ratio', 'half'], /--ratio must be a number in \[0, 1\).*got 'half'/],
        [['prune', input, '-o', 'x.onnx', '--dw', '-0.1'], /flag '--dw' needs a value|--dw must be a number/],
        [['prune', input, '-o', 'x.onnx', '--pw=1'], /--pw must be a number in \[0, 1\).*got '1'/],
        [['prune', input, '-o', 'x.onnx', '--variant', 'deprune-x'], /unknown --variant 'deprune-x'; did you mean 'deprune-b'\? \(choose one of deprune, deprune-b, deprune-bh, channel, unstructured, nm\)/],
        [['prune', input, '-o', 'x.onnx', '--config', 'broken.json'], /broken\.json: not valid JSON/],
        [['prune', input, '-o', 'x.onnx', '--config', 'unknown-key.json'], /unknown-key\.json: unknown config key 'ratoi'; did you mean 'ratio'\?/],
        [['prune', input, '-o', 'x.onnx', '--config', 'bad-ratio.json'], /bad-ratio\.json: config key 'layers\["features\.\*"\]\.ratio' must be in \[0, 1\), got 1\.5/],
        [['prune', input, '-o', 'x.onnx', '--config', 'array.json'], /array\.json: a prune config must be a JSON object/],
        [['prune', input, '-o', 'x.onnx', '--config', 'missing.json'], /missing\.json: no such config file/],
        [['prune', 'no-such-model.onnx', '-o', 'x.onnx'], /no-such-model\.onnx: no such file/],
        [['prune', 'resnet50', '-o', 'x.onnx'], /resnet50: no such file, and not a bundled model name/],
        [['prune', input], /missing --output/],
        [['prune', input, '-o', 'x.onnx', '--input-shape', '1,3,a,b'], /bad --input-shape '1,3,a,b'/],
        [['prune', input, '-o', 'x.onnx', '--input-shape', '1,3,100,100'], /input 'input' fixes axis 2 to 224/],
        [['prune', input, '-o', join('no-such-folder', 'x.onnx')], /no-such-folder.*cannot write/],
      ];
      for (const [args, pattern] of cases) {
        const result = runCli(args, { cwd: sandbox });
        expectUsageError(result, pattern);
        expect(listFiles(sandbox), args.join(' ')).toEqual(before);
      }
    } finally {
      cleanup(sandbox);
    }
  });
});
