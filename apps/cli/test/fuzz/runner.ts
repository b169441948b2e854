/**
 * Runs fuzz cases through the CLI in worker threads: each case's files go to a fresh folder, its
 * command line runs in-process in a worker (main() of the built CLI), and the outcome is
 * classified. A worker that passes the per-case time limit is terminated (a synchronous hang
 * cannot be interrupted any other way) and replaced; one that dies (uncaught error, heap limit)
 * is replaced too, and the case counts as a crash.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { DIR, type FuzzCase } from './cases';
import { classify, type RunOutcome, type Verdict } from './classify';

export interface RunnerOptions {
  /** Where case folders are made (and removed after each case unless `keep`). */
  workDir: string;
  /** A case running longer than this is a hang. */
  caseTimeoutMs: number;
  /** Heap limit of a worker; past it the case is a memory blow-up. */
  heapLimitMb?: number;
  /** Leave each case's folder in place (to inspect failures). */
  keep?: boolean;
}

export interface CaseResult {
  fuzzCase: FuzzCase;
  outcome: RunOutcome;
  verdict: Verdict;
}

interface Reply {
  id: string;
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

const WORKER = new URL('worker.mjs', import.meta.url);

const digest = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** The command line with `{dir}` replaced by the case folder. */
export function resolveArgv(argv: readonly string[], folder: string): string[] {
  return argv.map((arg) => arg.split(DIR).join(folder));
}

export function writeCaseFiles(fuzzCase: FuzzCase, folder: string): void {
  for (const [name, bytes] of Object.entries(fuzzCase.files)) {
    const path = join(folder, name);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, bytes);
  }
}

/** Inputs whose bytes are no longer what the case wrote. */
function changedInputs(fuzzCase: FuzzCase, folder: string): string[] {
  return Object.entries(fuzzCase.files).flatMap(([name, bytes]) => {
    try {
      return digest(readFileSync(join(folder, name))) === digest(bytes) ? [] : [name];
    } catch {
      return [`${name} (removed)`];
    }
  });
}

export class FuzzRunner {
  private worker: Worker | undefined;
  private counter = 0;

  constructor(private readonly options: RunnerOptions) {
    mkdirSync(options.workDir, { recursive: true });
  }

  private startWorker(): Worker {
    if (this.worker === undefined) {
      // The CLI writes only to the io it is given; anything a library prints directly is dropped.
      this.worker = new Worker(WORKER, { resourceLimits: { maxOldGenerationSizeMb: this.options.heapLimitMb ?? 1024 }, stdout: true, stderr: true });
      this.worker.stdout.resume();
      this.worker.stderr.resume();
    }
    return this.worker;
  }

  private async execute(argv: string[]): Promise<Omit<RunOutcome, 'changedInputs'>> {
    const worker = this.startWorker();
    const id = String(this.counter++);
    const started = performance.now();
    return new Promise((resolve) => {
      const finish = (outcome: Omit<RunOutcome, 'changedInputs'>) => {
        clearTimeout(timer);
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
        resolve(outcome);
      };
      const replace = () => {
        this.worker = undefined;
        void worker.terminate();
      };
      const onMessage = (reply: Reply) => reply.id === id && finish({ code: reply.code, stdout: reply.stdout, stderr: reply.stderr, ms: reply.ms });
      const onError = (error: Error) => {
        replace();
        finish({ stdout: '', stderr: '', ms: performance.now() - started, crash: `${error.name}: ${error.message.split('\n')[0]}` });
      };
      const onExit = (code: number) => {
        this.worker = undefined;
        finish({ stdout: '', stderr: '', ms: performance.now() - started, crash: `worker exited with ${code}` });
      };
      const timer = setTimeout(() => {
        replace();
        finish({ stdout: '', stderr: '', ms: this.options.caseTimeoutMs, timedOut: true });
      }, this.options.caseTimeoutMs);
      worker.on('message', onMessage);
      worker.once('error', onError);
      worker.once('exit', onExit);
      worker.postMessage({ id, argv });
    });
  }

  async run(fuzzCase: FuzzCase): Promise<CaseResult> {
    const folder = join(this.options.workDir, fuzzCase.id.replace(/[^\w.-]/g, '_'));
    rmSync(folder, { recursive: true, force: true });
    mkdirSync(folder, { recursive: true });
    writeCaseFiles(fuzzCase, folder);
    const outcome: RunOutcome = await this.execute(resolveArgv(fuzzCase.argv, folder));
    outcome.changedInputs = changedInputs(fuzzCase, folder);
    if (!this.options.keep) rmSync(folder, { recursive: true, force: true });
    // Messages name the case folder; a stable placeholder keeps reports comparable between runs.
    outcome.stdout = outcome.stdout.split(folder).join(DIR);
    outcome.stderr = outcome.stderr.split(folder).join(DIR);
    return { fuzzCase, outcome, verdict: classify(outcome) };
  }

  async close(): Promise<void> {
    await this.worker?.terminate();
    this.worker = undefined;
  }
}

export interface FuzzSummary {
  cases: number;
  exit0: number;
  exit2: number;
  failures: CaseResult[];
  /** Per kind: how many cases and how many failed. */
  kinds: Record<string, { cases: number; failures: number }>;
  slowest: { id: string; kind: string; ms: number }[];
  ms: number;
}

export function summarize(results: readonly CaseResult[], ms: number): FuzzSummary {
  const kinds: FuzzSummary['kinds'] = {};
  for (const { fuzzCase, verdict } of results) {
    const kind = fuzzCase.kind.replace(/ \(.*\)$/, '');
    kinds[kind] ??= { cases: 0, failures: 0 };
    kinds[kind].cases++;
    if (!verdict.ok) kinds[kind].failures++;
  }
  return {
    cases: results.length,
    exit0: results.filter(({ verdict }) => verdict.ok && verdict.kind === 'exit 0').length,
    exit2: results.filter(({ verdict }) => verdict.ok && verdict.kind === 'exit 2').length,
    failures: results.filter(({ verdict }) => !verdict.ok),
    kinds,
    slowest: [...results]
      .sort((a, b) => b.outcome.ms - a.outcome.ms)
      .slice(0, 5)
      .map(({ fuzzCase, outcome }) => ({ id: fuzzCase.id, kind: fuzzCase.kind, ms: Math.round(outcome.ms) })),
    ms,
  };
}
