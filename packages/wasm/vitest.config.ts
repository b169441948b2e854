import { deprunePreset } from '@deprune/vitest-preset';

// Node 20 validates relaxed SIMD only behind this flag: the test workers get it, so the suites
// run both kernel modules (plain SIMD and relaxed SIMD / FMA) against the same references.
export default deprunePreset({ test: { poolOptions: { forks: { maxForks: 2, minForks: 1, execArgv: ['--experimental-wasm-relaxed-simd'] } } } });
