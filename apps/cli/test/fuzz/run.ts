/**
 * The long fuzz run (CI runs 300 cases in test/fuzz.test.ts):
 *
 *   cd apps/cli && npx tsup && npx tsx test/fuzz/run.ts --cases 5000 [--seed 1] [--from 0] [--timeout 20000] [--save failures/]
 *
 * Prints a summary (counts per outcome and per kind, the slowest cases) and every failure with
 * its seed:index, command and mutations; --save writes each failing case's files and a case.json
 * to replay. Exit 1 when any case failed.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { generateCase } from './cases';
import { buildCorpus } from './corpus';
import { FuzzRunner, summarize, writeCaseFiles, type CaseResult } from './runner';

const { values } = parseArgs({
  options: {
    cases: { type: 'string', default: '300' },
    seed: { type: 'string', default: '1' },
    from: { type: 'string', default: '0' },
    timeout: { type: 'string', default: '20000' },
    save: { type: 'string' },
  },
});
const count = Number(values.cases);
const seed = Number(values.seed);
const from = Number(values.from);

function describeFailure({ fuzzCase, outcome, verdict }: CaseResult): string {
  const reason = verdict.ok ? '' : verdict.reason;
  return [`FAIL ${fuzzCase.id} ${fuzzCase.kind}: ${reason}`, `  argv: ${JSON.stringify(fuzzCase.argv)}`, `  steps: ${fuzzCase.steps.join('; ')}`, `  stderr: ${JSON.stringify(outcome.stderr.slice(-400))}`].join('\n');
}

function save(result: CaseResult, folder: string): void {
  const target = join(folder, result.fuzzCase.id.replace(':', '-'));
  mkdirSync(target, { recursive: true });
  writeCaseFiles(result.fuzzCase, target);
  const { files, ...rest } = result.fuzzCase;
  writeFileSync(join(target, 'case.json'), `${JSON.stringify({ ...rest, files: Object.keys(files), verdict: result.verdict }, null, 2)}\n`);
}

const corpus = buildCorpus();
const runner = new FuzzRunner({ workDir: join(tmpdir(), `deprune-fuzz-${process.pid}`), caseTimeoutMs: Number(values.timeout) });
const started = performance.now();
const results: CaseResult[] = [];
try {
  for (let index = from; index < from + count; index++) {
    const result = await runner.run(generateCase(corpus, seed, index));
    results.push(result);
    if (!result.verdict.ok) {
      console.log(describeFailure(result));
      if (values.save) save(result, values.save);
    }
    if ((index - from + 1) % 250 === 0) console.error(`${index - from + 1}/${count} cases, ${results.filter((each) => !each.verdict.ok).length} failures, ${((performance.now() - started) / 1000).toFixed(0)} s`);
  }
} finally {
  await runner.close();
}
const summary = summarize(results, performance.now() - started);
console.log(
  JSON.stringify({ seed, from, cases: summary.cases, exit0: summary.exit0, exit2: summary.exit2, failures: summary.failures.length, seconds: Math.round(summary.ms / 1000), kinds: summary.kinds, slowest: summary.slowest }, null, 2),
);
process.exitCode = summary.failures.length > 0 ? 1 : 0;
