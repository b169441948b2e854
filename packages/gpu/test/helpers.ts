import { describe, expect, it } from 'vitest';
import { availableModes, getKernelRegistration, GPU_MODES, probeModes, type GpuMode } from '../src/index';
import { parityFailure, TOLERANCE, type ParityResult } from './parity/cases';

export {
  channelBalancedPlan,
  dwLayer,
  groupBalancedPlan,
  keptColumns,
  keptTaps,
  maskedWeights,
  pick,
  pwLayer,
  randomFloat32,
  uniformPlan,
  uniformPwPlan,
  withActivation,
} from './parity/cases';
export { createRng } from '@deprune/tensor';
export { TOLERANCE };

/** Every mode that works in this process (cpu and webasm always in Node; headlessgl once `gl` is built and a display exists). */
export const MODES: GpuMode[] = await availableModes();

/** The probe of every mode, with its reason. */
export const PROBES = await probeModes();

/** The Node modes the parity suites cover. cpu and webasm must always run; headlessgl is a GPU mode. */
export const NODE_MODES: readonly GpuMode[] = ['cpu', 'webasm', 'headlessgl'];

/**
 * GPU modes (headlessgl here, webgl2 and webgpu in the browser suite) are skipped with a note on a
 * developer machine that lacks them, and must run in CI: there a missing one fails the run.
 */
export function gpuModesRequired(): boolean {
  return process.env.CI === 'true' || process.env.DEPRUNE_REQUIRE_GPU_MODES === '1';
}

/**
 * The run's seed for the parity inputs: fresh every run (test/global-setup.ts picks it once and
 * passes it to every worker and the browser), replayable with DEPRUNE_PARITY_SEED=<n>.
 */
export function paritySeed(): number {
  const fromEnv = process.env.DEPRUNE_PARITY_SEED;
  if (fromEnv !== undefined && fromEnv !== '') {
    const seed = Number(fromEnv);
    if (!Number.isSafeInteger(seed) || seed < 0) throw new Error(`DEPRUNE_PARITY_SEED must be a non-negative integer, got '${fromEnv}'`);
    return seed;
  }
  const seed = Math.floor(Math.random() * 2 ** 31);
  process.env.DEPRUNE_PARITY_SEED = String(seed);
  return seed;
}

/**
 * For a GPU mode that cannot run here: in CI (or with DEPRUNE_REQUIRE_GPU_MODES=1) a failing test
 * saying why; elsewhere a one-line console note, and the caller skips the mode's suite.
 * Returns whether the mode's suite should run.
 */
export function gpuModeGate(what: string, available: boolean, reason: string): boolean {
  if (available) return true;
  if (gpuModesRequired()) {
    it(`${what} runs here (required: CI=true or DEPRUNE_REQUIRE_GPU_MODES=1)`, () => {
      throw new Error(`${what} cannot run: ${reason}`);
    });
  } else {
    console.warn(`SKIPPED ${what}: ${reason} (CI=true or DEPRUNE_REQUIRE_GPU_MODES=1 makes this a failure)`);
  }
  return false;
}

/** Largest error seen per kernel and mode, printed at the end of each parity file. */
export const worstErrors = new Map<string, number>();

export function recordResult(result: ParityResult): void {
  if (result.error === null) return;
  const key = `${result.kernel} [${result.mode}]`;
  worstErrors.set(key, Math.max(worstErrors.get(key) ?? 0, result.error));
}

/** Whether the registry lists `kernel` for `mode` (a pair it does not list must be refused, not computed). */
export function isRegistered(kernel: string, mode: GpuMode): boolean {
  const { modes } = getKernelRegistration(kernel);
  return (modes === '*' ? GPU_MODES : modes).includes(mode);
}

/**
 * Asserts one parity result: ran, right shape and type, relative L2 error < TOLERANCE. For a
 * (kernel, mode) pair the registry refuses (documented in the README), asserts the refusal.
 */
export function expectParity(result: ParityResult): void {
  if (!isRegistered(result.kernel, result.mode as GpuMode)) {
    expect(result.code, `${result.name} [${result.mode}] must be refused with UNSUPPORTED`).toBe('UNSUPPORTED');
    return;
  }
  recordResult(result);
  expect(parityFailure(result), `seed ${process.env.DEPRUNE_PARITY_SEED} (replay with DEPRUNE_PARITY_SEED=${process.env.DEPRUNE_PARITY_SEED})`).toBeUndefined();
}

export function printWorstErrors(title: string): void {
  const lines = [...worstErrors.entries()].map(([key, error]) => `  ${key}: ${error.toExponential(2)}`);
  console.log(`${title} (seed ${process.env.DEPRUNE_PARITY_SEED}): worst relative L2 error per kernel and mode\n${lines.join('\n')}`);
}

/** describe() for a mode's suite, skipped (with the gate's note or failing test) when the mode is missing. */
export function describeMode(title: string, mode: GpuMode, body: () => void): void {
  const probe = PROBES.get(mode);
  const available = probe?.available === true;
  if (mode === 'cpu' || mode === 'webasm') {
    // Always required: the suite runs and fails if the mode is missing.
    describe(title, body);
    return;
  }
  const run = gpuModeGate(`${mode} mode (${title})`, available, probe?.reason ?? 'not probed');
  describe.skipIf(!run)(title, body);
}
