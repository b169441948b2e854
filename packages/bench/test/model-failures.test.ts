/**
 * A variant that cannot run in the models suite: it is never "best", its row says what to do, and
 * a webasm memory failure points at --mode wasm (one WebAssembly memory per session).
 */
import { describe, expect, it } from 'vitest';
import { failedVariantHint, isWebasmMemoryFailure, type ModelSuiteReport } from '../src/models';
import { bestVariantSentence, modelTable } from '../src/models-report';

const MEMORY_FAILURE = 'WebAssembly.Memory(): could not allocate memory';

/** Just what the table and the summary read: our dense run, and one variant that failed. */
function reportWithFailedVariant(): ModelSuiteReport {
  const dense = { variant: 'dense', backend: 'gpu.js webasm', yardstick: false, threads: 1, sparsity: 0, keptWeights: 0, weights: 0, planLayers: 0, sparseLayers: 0, medianMs: 10, spreadMs: 1, minMs: 9, samplesMs: [10], speedupVsDense: 1, speedupVsDenseFromMin: 1, cosineVsDense: 1, maxAbsDiffVsDense: 0 };
  return {
    mode: 'webasm',
    rows: [dense],
    unavailable: [{ backend: 'gpu.js webasm', variant: 'deprune-bh', threads: 1, reason: MEMORY_FAILURE, hint: failedVariantHint('webasm', 'deprune-bh', MEMORY_FAILURE) }],
    summary: { reference: 'gpu.js webasm dense', speedup: { dense: 1 }, best: { variant: 'dense', speedup: 1 }, yardstickVsDense: {} },
  } as unknown as ModelSuiteReport;
}

describe('a variant that failed', () => {
  it('a webasm memory failure hints at --mode wasm; other failures get a hint too', () => {
    expect(isWebasmMemoryFailure(`RangeError: ${MEMORY_FAILURE}`)).toBe(true);
    expect(failedVariantHint('webasm', 'deprune-bh', MEMORY_FAILURE)).toMatch(/use --mode wasm \(the WebAssembly SIMD backend, one memory per session\)/);
    expect(failedVariantHint('webgl2', 'channel', 'texture too large')).toContain('--mode wasm');
    expect(failedVariantHint('wasm', 'channel', 'no kernel')).toContain('--variants channel');
  });

  it('its row shows the reason and the hint, and the summary names no best variant', () => {
    const report = reportWithFailedVariant();
    const failed = modelTable(report).rows.find((row) => row[0] === 'deprune-bh');
    expect(failed?.join(' ')).toMatch(/unavailable: WebAssembly\.Memory\(\): could not allocate memory \(.*--mode wasm/);
    expect(bestVariantSentence(report)).toBe('No pruned variant ran here (see the unavailable rows).');
    expect(bestVariantSentence(report)).not.toContain('deprune-bh');
  });
});
