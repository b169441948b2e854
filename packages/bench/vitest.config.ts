import { deprunePreset } from '@deprune/vitest-preset';

export default deprunePreset();
