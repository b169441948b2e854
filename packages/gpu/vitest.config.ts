import { deprunePreset } from '@deprune/vitest-preset';

// test/global-setup.ts: the run's parity seed, and an Xvfb display for the headlessgl mode.
export default deprunePreset({ test: { globalSetup: ['test/global-setup.ts'] } });
