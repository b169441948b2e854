import type { UserConfig } from 'vitest/config';
export declare function deprunePreset(overrides?: UserConfig): UserConfig;
