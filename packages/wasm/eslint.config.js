import config from '@deprune/eslint-config';

// assembly/ is AssemblyScript (decorators on functions, v128 types): compiled by asc, not tsc.
export default [...config, { ignores: ['assembly/**', 'src/generated/**'] }];
