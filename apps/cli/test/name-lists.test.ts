import { TASKS as EVALUATE_TASKS } from '@deprune/evaluate';
import { PRESET_NAMES } from '@deprune/images';
import { BACKEND_MODES } from '@deprune/runtime';
import { describe, expect, it } from 'vitest';
import { PRESETS } from '../src/calib';
import { TASKS } from '../src/commands/eval';
import { MODE_NAMES } from '../src/commands/kernel-common';

// The CLI writes these lists out so that flag checks and --help do not load the packages that
// own them (evaluate alone takes about 100 ms to load). Each must stay the owner's list.
describe("the CLI's copies of package name lists", () => {
  it('--preset is every @deprune/images preset', () => {
    expect([...PRESETS]).toEqual([...PRESET_NAMES]);
  });
  it('--task is every @deprune/evaluate task', () => {
    expect([...TASKS]).toEqual([...EVALUATE_TASKS]);
  });
  it("--mode is 'auto' and every @deprune/runtime backend mode", () => {
    expect([...MODE_NAMES]).toEqual(['auto', ...BACKEND_MODES]);
  });
});
