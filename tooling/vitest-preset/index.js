import { defineConfig } from 'vitest/config';

/**
 * Every package's vitest config starts here. Besides the console summary each run
 * writes `test-results.json` (vitest's JSON reporter): `.ci/run` adds those up into
 * the final `N passed, N failed` line, so a run that executed nothing is visible.
 */
export function deprunePreset(overrides = {}) {
  return defineConfig({
    ...overrides,
    test: {
      include: ['test/**/*.test.ts'],
      reporters: ['default', ['json', { outputFile: 'test-results.json' }]],
      testTimeout: 60_000,
      hookTimeout: 120_000,
      // Two cores: one fork per core is what this machine and CI's can take.
      pool: 'forks',
      poolOptions: { forks: { maxForks: 2, minForks: 1 } },
      ...(overrides.test ?? {}),
    },
  });
}
