import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DIR, type FuzzCase } from './fuzz/cases';
import type { Corpus } from './fuzz/corpus';
import { useFuzzHarness } from './fuzz/harness';

/**
 * Every input the fuzzer found failing, replayed: as files under fuzz/regressions/<seed>-<index>/
 * (the case's inputs and a case.json with its command line, mutations and what went wrong), or,
 * where the input is large and its mutation short, built here from the corpus.
 */

const REGRESSIONS = fileURLToPath(new URL('fuzz/regressions/', import.meta.url));

interface SavedCase {
  id: string;
  kind: string;
  steps: string[];
  argv: string[];
  files: string[];
  /** What went wrong when the fuzzer found it. */
  found: string;
  /** A pattern the one-line error must match now. */
  now: string;
}

function savedCases(): (FuzzCase & { found: string; now: string })[] {
  return readdirSync(REGRESSIONS).map((name) => {
    const folder = join(REGRESSIONS, name);
    const saved = JSON.parse(readFileSync(join(folder, 'case.json'), 'utf8')) as SavedCase;
    return { ...saved, files: Object.fromEntries(saved.files.map((file) => [file, new Uint8Array(readFileSync(join(folder, file)))])) };
  });
}

/** The pruned corpus plan with one field replaced: the plan/run mutations that found message blow-ups. */
interface EditablePlan {
  version: unknown;
  layers: { kind: unknown; keptIndices: unknown[][]; step?: unknown }[];
}

function planWith(corpus: Corpus, edit: (plan: EditablePlan) => void, id: string, found: string): FuzzCase & { found: string } {
  const plan = JSON.parse(corpus.pruned.plan) as EditablePlan;
  edit(plan);
  return {
    id,
    kind: 'plan/run',
    steps: [found],
    found,
    files: { 'pruned.onnx': corpus.pruned.model, 'p.deprune.json': new TextEncoder().encode(JSON.stringify(plan)) },
    argv: ['run', `${DIR}/pruned.onnx`, '--plan', `${DIR}/p.deprune.json`, '--mode', 'cpu', '--repeat', '1'],
  };
}

const bigArray = () => Array.from({ length: 20_000 }, (_, index) => index);

const fuzz = useFuzzHarness('deprune-fuzz-regressions-');

describe('fuzz regressions', () => {
  for (const saved of savedCases()) {
    it(`${saved.id} ${saved.kind}: ${saved.found}`, async () => {
      const { verdict, outcome } = await fuzz.runner.run(saved);
      expect(verdict, outcome.stderr).toEqual({ ok: true, kind: 'exit 2' });
      expect(outcome.stderr.trimEnd().split('\n').pop()).toMatch(new RegExp(saved.now));
    });
  }

  it("1:1181 plan/run: a plan whose version is a 20,000-element array got a 100 KB message", async () => {
    const { verdict, outcome } = await fuzz.runner.run(planWith(fuzz.corpus, (plan) => (plan.version = bigArray()), '1:1181', 'version: an array of 20000'));
    expect(verdict).toEqual({ ok: true, kind: 'exit 2' });
    expect(outcome.stderr).toMatch(/deprune plan version an array of 20000 is not supported/);
  });

  it("1:1075 plan/run: a plan layer whose kind is a 20,000-element array got a 100 KB message", async () => {
    const { verdict, outcome } = await fuzz.runner.run(planWith(fuzz.corpus, (plan) => (plan.layers[1].kind = bigArray()), '1:1075', 'layers[1].kind: an array of 20000'));
    expect(verdict).toEqual({ ok: true, kind: 'exit 2' });
    // parsePlan refuses the kind as the file is read, before the model is compared (issue 15).
    expect(outcome.stderr).toMatch(/layers\[1\]\.kind must be 'dw' or 'pw', got an array of 20000/);
  });

  it('3:3444 plan/run: a kept index that is a 20,000-element array got a 100 KB message', async () => {
    const { verdict, outcome } = await fuzz.runner.run(planWith(fuzz.corpus, (plan) => (plan.layers[1].keptIndices[0][0] = bigArray()), '3:3444', 'layers[1].keptIndices[0][0]: an array of 20000'));
    expect(verdict).toEqual({ ok: true, kind: 'exit 2' });
    expect(outcome.stderr).toMatch(/keptIndices\[0\]\[0\] = an array of 20000 is outside \[0, 7\]/);
  });

  // The message came from @deprune/gpu's table builder, which printed String(step) whole.
  it('7:4210 plan/run: a plan layer whose step is a 20,000-element array got a 100 KB message', async () => {
    const { verdict } = await fuzz.runner.run(planWith(fuzz.corpus, (plan) => (plan.layers[1].step = bigArray()), '7:4210', 'layers[1].step: an array of 20000'));
    expect(verdict).toEqual({ ok: true, kind: 'exit 2' });
  });
});
