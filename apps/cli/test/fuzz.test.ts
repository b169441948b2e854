import { describe, expect, it } from 'vitest';
import { generateCase } from './fuzz/cases';
import { useFuzzHarness } from './fuzz/harness';
import { summarize, type CaseResult } from './fuzz/runner';

/**
 * The fuzz harness in CI (issue 16): a fixed seed and a fixed number of mutated models, .npy
 * files, images, plans, configs and flag values through inspect, prune, run and eval, in-process.
 * Every case must end in exit 0 or a one-line exit 2 (see fuzz/classify.ts); a failure prints its
 * seed:index, command and mutations. The long run is test/fuzz/run.ts (docs/reliability.md).
 */

const SEED = 1;
const CASES = Number(process.env.FUZZ_CASES ?? 2000);

const fuzz = useFuzzHarness('deprune-fuzz-');

function describeFailure({ fuzzCase, outcome, verdict }: CaseResult): string {
  return `${fuzzCase.id} ${fuzzCase.kind}: ${verdict.ok ? '' : verdict.reason}\n  argv ${JSON.stringify(fuzzCase.argv)}\n  steps ${fuzzCase.steps.join('; ')}\n  stderr ${JSON.stringify(outcome.stderr.slice(-300))}`;
}

describe(`fuzz: seed ${SEED}, ${CASES} cases`, () => {
  it('every case ends in exit 0 or a one-line exit 2: no crash, hang, exit 1, stack trace, raw control character or changed input', async () => {
    const started = performance.now();
    const results: CaseResult[] = [];
    for (let index = 0; index < CASES; index++) results.push(await fuzz.runner.run(generateCase(fuzz.corpus, SEED, index)));
    const summary = summarize(results, performance.now() - started);
    console.log(`fuzz seed ${SEED}: ${summary.cases} cases, ${summary.exit0} exit 0, ${summary.exit2} exit 2, ${summary.failures.length} failures in ${(summary.ms / 1000).toFixed(1)} s`);
    expect(summary.failures.map(describeFailure)).toEqual([]);
    expect(summary.cases).toBeGreaterThanOrEqual(300);
    // The mix reaches past the parsers: some cases of each kind get through to exit 0. Since
    // issue 15 the plan reader (parsePlan) also refuses fields the runtime never read (variant,
    // model, output, config of the wrong type), so fewer plan cases run; since the ONNX checker's
    // rules on IR versions, opset imports, required first inputs/outputs and conv attribute types
    // (and repeated or unknown conv attributes, input counts) are enforced too, fewer mutated models:
    // 130 of 2000 at seed 1.
    expect(summary.exit0).toBeGreaterThan(CASES / 20);
    expect(Object.keys(summary.kinds).sort()).toEqual(['calib/prune', 'config/prune', 'flags/prune', 'image/eval', 'image/run', 'model/eval', 'model/inspect', 'model/prune', 'model/run', 'npy/run', 'plan/run']);
  }, 300_000);

  it('a case is the same command and bytes every time it is generated', () => {
    const [first, again] = [generateCase(fuzz.corpus, SEED, 17), generateCase(fuzz.corpus, SEED, 17)];
    expect(again.argv).toEqual(first.argv);
    expect(again.steps).toEqual(first.steps);
    expect(Object.keys(again.files)).toEqual(Object.keys(first.files));
    for (const name of Object.keys(first.files)) expect(Buffer.from(again.files[name]).equals(Buffer.from(first.files[name]))).toBe(true);
  });
});
