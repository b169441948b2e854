import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { assertBuilt } from '../helpers';
import { buildCorpus, type Corpus } from './corpus';
import { FuzzRunner } from './runner';

/** What a fuzz test file reads inside its tests; filled in by beforeAll. */
export interface FuzzHarness {
  corpus: Corpus;
  runner: FuzzRunner;
}

/**
 * Registers, for the calling test file, the built-CLI check, the corpus, a scratch folder and an
 * in-process runner, and tears them down after. Kept apart from runner.ts, which the long run
 * (run.ts) loads outside vitest.
 */
export function useFuzzHarness(scratchPrefix: string): FuzzHarness {
  const harness = {} as FuzzHarness;
  let workDir: string | undefined;
  beforeAll(() => {
    assertBuilt();
    harness.corpus = buildCorpus();
    workDir = mkdtempSync(join(tmpdir(), scratchPrefix));
    harness.runner = new FuzzRunner({ workDir, caseTimeoutMs: 20_000 });
  });
  afterAll(async () => {
    await harness.runner?.close();
    if (workDir !== undefined) rmSync(workDir, { recursive: true, force: true });
  });
  return harness;
}
