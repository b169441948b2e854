/**
 * The long fuzz run (CI runs 300 cases in test/fuzz.test.ts):
 *
 *   cd apps/cli && npx tsup && npx tsx test/fuzz/run.ts --cases 5000 [--seed 1] [--from 0] [--timeout 20000] [--save failures/] [--checker /usr/bin/python3]
 *
 * --checker names a Python with the `onnx` package (Debian: apt-get install python3-onnx): every
 * model that `deprune prune` accepted (exit 0) is then run through the official ONNX checker,
 * `onnx.checker.check_model`, and the summary counts the models it refuses (issue 16: what prune
 * accepts must pass the checker's rules).
 *
 * Prints a summary (counts per outcome and per kind, the slowest cases) and every failure with
 * its seed:index, command and mutations; --save writes each failing case's files and a case.json
 * to replay. Exit 1 when any case failed.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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
    checker: { type: 'string' },
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
/** The checker's verdict on every model `prune` accepted: null for a pass, else its message's first line. */
const CHECKER_SCRIPT = `
import json, sys
import onnx
verdicts = {}
for path in sys.argv[1:]:
    try:
        onnx.checker.check_model(onnx.load(path))
        verdicts[path] = None
    except Exception as error:
        verdicts[path] = (str(error).strip().splitlines() or [type(error).__name__])[0][:300]
print(json.dumps(verdicts))
`;

function checkAcceptedModels(python: string, accepted: readonly CaseResult[]): { accepted: number; passed: number; refused: { id: string; kind: string; message: string }[] } {
  const folder = mkdtempSync(join(tmpdir(), 'deprune-fuzz-checker-'));
  try {
    const paths = accepted.map((result) => {
      const path = join(folder, `${result.fuzzCase.id.replace(':', '-')}.onnx`);
      writeFileSync(path, result.fuzzCase.files['m.onnx']);
      return path;
    });
    const verdicts = paths.length === 0 ? {} : (JSON.parse(execFileSync(python, ['-c', CHECKER_SCRIPT, ...paths], { encoding: 'utf8', maxBuffer: 64 * 2 ** 20 })) as Record<string, string | null>);
    const refused = accepted.flatMap((result, index) => {
      const message = verdicts[paths[index]];
      return message === null || message === undefined ? [] : [{ id: result.fuzzCase.id, kind: result.fuzzCase.kind, message }];
    });
    return { accepted: accepted.length, passed: accepted.length - refused.length, refused };
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

const summary = summarize(results, performance.now() - started);
const accepted = results.filter((result) => result.fuzzCase.kind.startsWith('model/prune') && result.verdict.ok && result.verdict.kind === 'exit 0');
const checker = values.checker === undefined ? undefined : checkAcceptedModels(values.checker, accepted);
for (const refusal of checker?.refused ?? []) console.log(`CHECKER ${refusal.id} ${refusal.kind}: ${refusal.message}`);
console.log(
  JSON.stringify(
    {
      seed,
      from,
      cases: summary.cases,
      exit0: summary.exit0,
      exit2: summary.exit2,
      failures: summary.failures.length,
      seconds: Math.round(summary.ms / 1000),
      kinds: summary.kinds,
      slowest: summary.slowest,
      ...(checker ? { checker: { pruneAccepted: checker.accepted, checkerPassed: checker.passed, checkerRefused: checker.refused.length } } : {}),
    },
    null,
    2,
  ),
);
if (checker && checker.refused.length > 0) process.exitCode = 1;
if (summary.failures.length > 0) process.exitCode = 1;
