import { deprunePreset } from '@deprune/vitest-preset';

// Packing, `npm install` from the registry and starting node once per package take a
// while: give the whole check three minutes.
export default deprunePreset({
  test: { testTimeout: 180_000, hookTimeout: 180_000 },
});
