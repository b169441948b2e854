#!/usr/bin/env node
// Scaffolds packages/<dir> with the files every deprune package shares:
// package.json (exports map with types, ESM + CJS), tsup, tsconfig, vitest, eslint.
// Usage: node tooling/scripts/new-package.mjs <dir> <@scope/name> "<description>"
import { mkdirSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const [dir, name, description = ''] = process.argv.slice(2);
if (!dir || !name) {
  console.error('usage: new-package.mjs <dir> <@scope/name> "<description>"');
  process.exit(2);
}
const root = join(process.cwd(), dir);
if (existsSync(join(root, 'package.json'))) {
  console.error(`${dir}/package.json exists; not touching it`);
  process.exit(2);
}
mkdirSync(join(root, 'src'), { recursive: true });
mkdirSync(join(root, 'test'), { recursive: true });

const pkg = {
  name,
  version: '0.0.0',
  description,
  license: 'MIT',
  type: 'module',
  sideEffects: false,
  main: './dist/index.cjs',
  module: './dist/index.js',
  types: './dist/index.d.ts',
  exports: {
    '.': {
      import: { types: './dist/index.d.ts', default: './dist/index.js' },
      require: { types: './dist/index.d.cts', default: './dist/index.cjs' },
    },
    './package.json': './package.json',
  },
  files: ['dist', 'README.md'],
  scripts: {
    build: 'tsup',
    typecheck: 'tsc -p tsconfig.json',
    lint: 'eslint .',
    test: 'vitest run',
  },
  dependencies: {},
  devDependencies: {
    '@deprune/eslint-config': 'workspace:*',
    '@deprune/tsconfig': 'workspace:*',
    '@deprune/vitest-preset': 'workspace:*',
  },
};
const files = {
  'package.json': JSON.stringify(pkg, null, 2) + '\n',
  'tsconfig.json':
    JSON.stringify({ extends: '@deprune/tsconfig/base.json', include: ['src', 'test', '*.ts'] }, null, 2) + '\n',
  'tsup.config.ts': `import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'node20',
});
`,
  'vitest.config.ts': `import { deprunePreset } from '@deprune/vitest-preset';

export default deprunePreset();
`,
  'eslint.config.js': `export { default } from '@deprune/eslint-config';
`,
};
for (const [file, text] of Object.entries(files)) writeFileSync(join(root, file), text);

// Starting points that tsup needs (it fails without src/index.ts) and that the
// architecture asks for (a README with one runnable example). Never overwritten.
const stubs = {
  'src/index.ts': `// Public API of ${name}. The release checks (tooling/release-checks) fail while this exports nothing.
export {};
`,
  'README.md': `# ${name}

${description}

\`\`\`ts
// one runnable example
\`\`\`
`,
};
for (const [file, text] of Object.entries(stubs)) {
  if (!existsSync(join(root, file))) writeFileSync(join(root, file), text);
}
console.log(`created ${dir} (${name})
next:
  - write src/index.ts and at least one test/*.test.ts (vitest fails when there is none)
  - npx -y pnpm@12.4.2 install                      (links it into the workspace, updates the lockfile)
  - npx -y pnpm@12.4.2 changeset                    (announce its first release)
  - add "${name}": "workspace:*" to devDependencies of tooling/release-checks/package.json`);
