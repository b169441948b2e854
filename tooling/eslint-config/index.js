import tseslint from 'typescript-eslint';

/** Lint rules shared by every package: typescript-eslint's recommended set, plus the few we care about. */
export default tseslint.config(
  // .tmp/ is the git-ignored scratch folder (see .gitignore): never part of a package.
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', '.tmp/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
      'no-console': 'off',
      eqeqeq: ['error', 'smart'],
    },
  },
);
