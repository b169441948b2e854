export { default } from '@deprune/eslint-config';
