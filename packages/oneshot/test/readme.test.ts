import { readmeExampleTest } from '@deprune/vitest-preset/readme';

readmeExampleTest(import.meta.url, '@deprune/oneshot');
