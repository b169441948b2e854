// "`npm pack` of every package gives a package that installs and imports in an empty
// folder." For each checked package: `pnpm pack` it, `npm install` all tarballs together
// into an empty temporary project, then import/require each from there.
//
// Which packages are checked: the public packages that this package's package.json lists
// in devDependencies as `workspace:*`. That dependency is what makes turbo build them
// (`^build`) before this test and re-run it when they change, so their dist is complete.
// To check another package, add `"@deprune/<name>": "workspace:*"` to devDependencies in
// tooling/release-checks/package.json and run `npx -y pnpm@12.4.2 install`.
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const PNPM = ['-y', 'pnpm@12.4.2'];
const checksDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const repoRoot = resolve(checksDir, '../..');
/** Where publishable packages live; tooling/ is private by design. */
const PUBLIC_PACKAGE_PARENTS = ['packages', 'apps'];

interface Manifest {
  name: string;
  version: string;
  private?: boolean;
  main?: string;
  module?: string;
  types?: string;
  exports?: unknown;
  bin?: string | Record<string, string>;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

interface WorkspacePackage {
  dir: string;
  manifest: Manifest;
}

interface Packed extends WorkspacePackage {
  tarball: string;
  /** Files in the tarball, relative to the package root (`dist/index.js`). */
  files: Map<string, Buffer>;
  packedManifest: Manifest;
}

function readManifest(dir: string): Manifest {
  return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest;
}

function publicWorkspacePackages(): WorkspacePackage[] {
  const found: WorkspacePackage[] = [];
  for (const parent of PUBLIC_PACKAGE_PARENTS) {
    const parentDir = join(repoRoot, parent);
    if (!existsSync(parentDir)) continue;
    for (const entry of readdirSync(parentDir).sort()) {
      const dir = join(parentDir, entry);
      if (!existsSync(join(dir, 'package.json'))) continue;
      const manifest = readManifest(dir);
      if (!manifest.private) found.push({ dir, manifest });
    }
  }
  return found;
}

/**
 * The environment for commands that must behave as in a user's empty folder: drop what
 * pnpm/npx/vitest put there for the running script (npm_config_local_prefix would even
 * point npm at the repo), keep the user's registry, cache and npmrc settings.
 */
function cleanEnv(): NodeJS.ProcessEnv {
  const keep = new Set(['npm_config_registry', 'npm_config_cache', 'npm_config_userconfig', 'npm_config_cafile']);
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(npm|pnpm)_/.test(key) && !keep.has(key)) continue;
    if (key === 'INIT_CWD' || key === 'PNPM_SCRIPT_SRC_DIR' || key.startsWith('VITEST')) continue;
    env[key] = value;
  }
  return env;
}

/**
 * A command that hangs (a stuck registry request) must fail the check, not CI: the child gets
 * a deadline of its own. Commands run asynchronously: a synchronous call blocks the vitest
 * worker's event loop for the whole pack-and-install, and on a loaded machine the worker then
 * misses its own RPC deadline ("Timeout calling onTaskUpdate") and the run fails.
 */
const COMMAND_TIMEOUT_MS = 240_000;

function run(command: string, args: string[], cwd: string): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const child = execFile(
      command,
      args,
      { cwd, env: cleanEnv(), encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: COMMAND_TIMEOUT_MS, killSignal: 'SIGKILL' },
      (error, stdout, stderr) => {
        if (!error) {
          resolvePromise(stdout);
          return;
        }
        const status = typeof error.code === 'number' ? error.code : null;
        reject(
          new Error(
            `\`${command} ${args.join(' ')}\` in ${cwd} failed (exit ${status}${status === null ? `, killed after ${COMMAND_TIMEOUT_MS / 1000} s or by a signal` : ''}):\n` +
              `${stdout}\n${stderr}`,
          ),
        );
      },
    );
    child.stdin?.end();
  });
}

/** Regular files of a .tgz, keyed by path without the leading `package/`. */
function readTarball(file: string): Map<string, Buffer> {
  const tar = gunzipSync(readFileSync(file));
  const files = new Map<string, Buffer>();
  const text = (start: number, length: number) =>
    tar.subarray(start, start + length).toString('utf8').replace(/\0.*$/s, '');
  let offset = 0;
  let longName: string | undefined;
  while (offset + 512 <= tar.length) {
    const name = text(offset, 100);
    if (!name) break; // two zero blocks end the archive
    const size = parseInt(text(offset + 124, 12).trim() || '0', 8);
    const type = text(offset + 156, 1) || '0';
    const prefix = text(offset + 345, 155);
    const body = tar.subarray(offset + 512, offset + 512 + size);
    if (type === 'x') {
      // pax header: `len path=...\n` records; only the path matters here
      const path = body.toString('utf8').match(/\d+ path=([^\n]*)\n/);
      longName = path?.[1];
    } else if (type === '0' || type === '7') {
      const path = longName ?? (prefix ? `${prefix}/${name}` : name);
      files.set(path.replace(/^[^/]+\//, ''), Buffer.from(body));
      longName = undefined;
    }
    offset += 512 + Math.ceil(size / 512) * 512;
  }
  return files;
}

/** Every file path a manifest points to (exports conditions, main, module, types, bin). */
function referencedFiles(manifest: Manifest): string[] {
  const paths = new Set<string>();
  const visit = (value: unknown): void => {
    if (typeof value === 'string') {
      if (value.startsWith('./') && !value.includes('*')) paths.add(value);
    } else if (value && typeof value === 'object') {
      for (const child of Object.values(value)) visit(child);
    }
  };
  visit(manifest.exports);
  visit(manifest.bin);
  for (const field of [manifest.main, manifest.module, manifest.types]) {
    if (field) visit(field.startsWith('./') ? field : `./${field}`);
  }
  return [...paths].map((path) => path.slice(2));
}

function binFiles(manifest: Manifest): string[] {
  if (!manifest.bin) return [];
  const bins = typeof manifest.bin === 'string' ? [manifest.bin] : Object.values(manifest.bin);
  return bins.map((bin) => bin.replace(/^\.\//, ''));
}

/** What a consumer imports: the package and each subpath of its `exports` (not package.json). */
function entryPoints(manifest: Manifest): string[] {
  if (manifest.exports === undefined || typeof manifest.exports !== 'object' || manifest.exports === null) return [];
  return Object.keys(manifest.exports)
    .filter((key) => key === '.' || (key.startsWith('./') && !key.includes('*') && key !== './package.json'))
    .map((key) => (key === '.' ? manifest.name : `${manifest.name}/${key.slice(2)}`));
}

/** The type packages a consumer of ours has anyway, pinned to the versions this repository uses. */
function consumerTypePackages(): string[] {
  const rootManifest = readManifest(repoRoot);
  const gpuManifest = readManifest(join(repoRoot, 'packages', 'gpu'));
  return [`@types/node@${rootManifest.devDependencies?.['@types/node']}`, `playwright-core@${gpuManifest.devDependencies?.['playwright-core']}`];
}

/** The packages a library user installs on their own (issue 15's bound: under 10 MB each). */
const ALONE_PACKAGES = ['@deprune/masks', '@deprune/pipeline', '@deprune/runtime'];
const ALONE_LIMIT_MB = 10;

/** A 1x1 conv on the wasm backend (y = 1 * x[0] + 2 * x[9], ...), then a gpu.js mode without @deprune/gpu. */
const RUNTIME_ALONE_SCRIPT = `
import { GraphBuilder } from '@deprune/onnx';
import { createSession } from '@deprune/runtime';
import { tensor } from '@deprune/tensor';
const builder = new GraphBuilder({ name: 'alone' });
const x = builder.input('x', [1, 2, 3, 3]);
const w = builder.weight('w', tensor(Float32Array.from([1, 2, 3, 4]), [2, 2, 1, 1]));
builder.output(builder.node('Conv', [x, w], {}, { name: 'pw', outputs: ['y'] }));
const model = builder.build();
const session = await createSession(model, { mode: 'wasm', threads: 1 });
const { outputs } = await session.run({ x: tensor(Float32Array.from({ length: 18 }, (_, i) => i), [1, 2, 3, 3]) });
session.dispose();
const refusal = await createSession(model, { mode: 'cpu' }).then(() => 'no refusal', (error) => error.constructor.name + ': ' + error.message);
console.log(JSON.stringify({ mode: session.mode, y: Array.from(outputs.y.data).slice(0, 4), refusal }));
`;

/** The packed package and every workspace package it depends on, transitively (their tarballs stand in for the registry). */
function workspaceClosure(name: string, packed: readonly Packed[]): Packed[] {
  const byName = new Map(packed.map((pkg) => [pkg.manifest.name, pkg]));
  const found = new Map<string, Packed>();
  const visit = (current: string): void => {
    if (found.has(current)) return;
    const pkg = byName.get(current);
    if (!pkg) throw new Error(`${current} was not packed (is it listed in devDependencies?)`);
    found.set(current, pkg);
    for (const dependency of Object.keys(pkg.manifest.dependencies ?? {})) if (byName.has(dependency) || dependency.startsWith('@deprune/')) visit(dependency);
  };
  visit(name);
  return [...found.values()];
}

/** Bytes of the regular files under a folder (what `du` would add up, without block rounding). */
function folderBytes(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) total += folderBytes(path);
    else if (entry.isFile()) total += statSync(path).size;
  }
  return total;
}

const ownManifest = readManifest(checksDir);
const declared = new Set(
  Object.entries(ownManifest.devDependencies ?? {})
    .filter(([, range]) => range.startsWith('workspace:'))
    .map(([name]) => name),
);
const publicPackages = publicWorkspacePackages();
const checked = publicPackages.filter((pkg) => declared.has(pkg.manifest.name));

describe('every public package is covered', () => {
  it('lists each public package under packages/ and apps/ in devDependencies', () => {
    const missing = publicPackages.map((pkg) => pkg.manifest.name).filter((name) => !declared.has(name));
    expect(
      missing,
      'add these as "workspace:*" devDependencies of tooling/release-checks so they are built and checked',
    ).toEqual([]);
  });

  it('checks at least one package', () => {
    expect(checked.length).toBeGreaterThan(0);
  });
});

describe('npm pack -> install in an empty folder -> import', () => {
  let workDir = '';
  let consumerDir = '';
  const packed: Packed[] = [];

  beforeAll(async () => {
    workDir = mkdtempSync(join(tmpdir(), 'deprune-release-checks-'));
    const tarballDir = join(workDir, 'tarballs');
    consumerDir = join(workDir, 'consumer');
    mkdirSync(tarballDir);
    mkdirSync(consumerDir);

    for (const pkg of checked) {
      if (!existsSync(join(pkg.dir, 'dist'))) {
        throw new Error(`${pkg.manifest.name} has no dist/: turbo should have built it (is it in devDependencies?)`);
      }
      const stdout = await run('npx', [...PNPM, 'pack', '--json', '--pack-destination', tarballDir], pkg.dir);
      const report = JSON.parse(stdout.slice(stdout.indexOf('{'))) as { filename: string };
      const tarball = resolve(pkg.dir, report.filename);
      const files = readTarball(tarball);
      const manifestFile = files.get('package.json');
      if (!manifestFile) throw new Error(`${tarball} has no package.json`);
      packed.push({ ...pkg, tarball, files, packedManifest: JSON.parse(manifestFile.toString('utf8')) as Manifest });
    }

    writeFileSync(
      join(consumerDir, 'package.json'),
      JSON.stringify({ name: 'release-check-consumer', version: '0.0.0', private: true }, null, 2),
    );
    if (packed.length > 0) {
      await run(
        'npm',
        [
          'install',
          '--prefix',
          consumerDir,
          '--no-audit',
          '--no-fund',
          '--ignore-scripts',
          '--loglevel=error',
          ...packed.map((pkg) => pkg.tarball),
        ],
        consumerDir,
      );
    }
  });

  afterAll(() => {
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  it.each(checked.map((pkg) => [pkg.manifest.name, pkg] as const))('%s', async (name) => {
    const pkg = packed.find((candidate) => candidate.manifest.name === name);
    if (!pkg) throw new Error(`${name} was not packed`);
    const paths = [...pkg.files.keys()];

    // Only what users need: no sources, no tests.
    expect(paths.filter((path) => /^(src|test|tests|__tests__)\//.test(path) || /\.(test|spec)\.[cm]?[jt]sx?$/.test(path)))
      .toEqual([]);
    // Everything the manifest points to is in the tarball.
    expect(referencedFiles(pkg.packedManifest).filter((path) => !pkg.files.has(path))).toEqual([]);
    // pnpm replaced every workspace: range with a real version.
    const ranges = { ...pkg.packedManifest.dependencies, ...pkg.packedManifest.peerDependencies, ...pkg.packedManifest.optionalDependencies };
    expect(Object.entries(ranges).filter(([, range]) => range.startsWith('workspace:'))).toEqual([]);

    const bins = binFiles(pkg.packedManifest);
    if (pkg.packedManifest.exports === undefined) {
      // An app with only a `bin` (the CLI): the bin must ship; there is nothing to import.
      expect(bins.length, `${name} has neither exports nor bin`).toBeGreaterThan(0);
      for (const bin of bins) expect(pkg.files.has(bin), `${bin} in the tarball`).toBe(true);
      return;
    }
    for (const bin of bins) expect(pkg.files.has(bin), `${bin} in the tarball`).toBe(true);
    expect(pkg.files.has('dist/index.d.ts'), 'dist/index.d.ts in the tarball').toBe(true);

    const esmKeys = JSON.parse(
      await run(
        'node',
        ['--input-type=module', '-e', `const m = await import(${JSON.stringify(name)}); console.log(JSON.stringify(Object.keys(m)));`],
        consumerDir,
      ),
    ) as string[];
    expect(esmKeys.filter((key) => key !== 'default').length, `${name}'s ESM exports`).toBeGreaterThan(0);

    const cjsKeys = JSON.parse(
      await run('node', ['-e', `console.log(JSON.stringify(Object.keys(require(${JSON.stringify(name)}))))`], consumerDir),
    ) as string[];
    expect(cjsKeys.length, `${name}'s CommonJS exports`).toBeGreaterThan(0);
  });

  // A consumer project compiled by tsc with `skipLibCheck: false`: every declaration file of every
  // package, and of what they pull in, must type-check, under the resolutions users configure.
  // The consumer brings @types/node (it runs Node) and playwright-core (the peer of
  // @deprune/gpu/chromium, whose types name it), at the versions this repository uses.
  it('compiles a consumer of every entry point with skipLibCheck: false (nodenext ESM and CJS, bundler, node10)', async () => {
    const entries = packed.flatMap((pkg) => entryPoints(pkg.packedManifest));
    expect(entries.length).toBeGreaterThan(packed.length / 2);
    await run('npm', ['install', '--prefix', consumerDir, '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error', ...consumerTypePackages()], consumerDir);
    const source = entries.map((entry, index) => `import * as entry${index} from ${JSON.stringify(entry)};`).join('\n') + `\nexport const entries = [${entries.map((_, index) => `entry${index}`).join(', ')}];\n`;
    const configs: Record<string, { files: Record<string, string>; options: Record<string, unknown> }> = {
      nodenext: { files: { 'esm.mts': source, 'cjs.cts': source }, options: { module: 'nodenext', moduleResolution: 'nodenext' } },
      bundler: { files: { 'bundler.ts': source }, options: { module: 'esnext', moduleResolution: 'bundler' } },
      // Legacy resolution ignores `exports`: subpaths are found through `typesVersions`.
      node10: { files: { 'node10.ts': source }, options: { module: 'commonjs', moduleResolution: 'node10', esModuleInterop: true } },
    };
    const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
    const failures: string[] = [];
    for (const [name, { files, options }] of Object.entries(configs)) {
      for (const [file, text] of Object.entries(files)) writeFileSync(join(consumerDir, file), text);
      const compilerOptions = { ...options, target: 'es2022', lib: ['es2022', 'dom'], types: ['node'], strict: true, skipLibCheck: false, noEmit: true };
      writeFileSync(join(consumerDir, `tsconfig.${name}.json`), JSON.stringify({ compilerOptions, files: Object.keys(files) }, null, 2));
      await run('node', [tsc, '-p', `tsconfig.${name}.json`], consumerDir).catch((error: Error) => failures.push(`${name}: ${error.message}`));
    }
    expect(failures).toEqual([]);
  });

  // What a library user installs: one package and what it depends on, nothing optional (the gpu.js
  // modes are an optional peer of the runtime). The issue that set the bound found 170 MB for
  // @deprune/runtime with @deprune/gpu; without it the runtime runs on the wasm backend.
  it.each(ALONE_PACKAGES.map((name) => [name] as const))('%s installs alone in under 10 MB', async (name) => {
    const dir = join(workDir, `alone-${name.replace(/\W+/g, '-')}`);
    mkdirSync(dir);
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'release-check-alone', version: '0.0.0', private: true }));
    const tarballs = workspaceClosure(name, packed).map((pkg) => pkg.tarball);
    await run('npm', ['install', '--prefix', dir, '--omit=optional', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error', ...tarballs], dir);
    const installed = folderBytes(join(dir, 'node_modules'));
    expect(installed / 2 ** 20, `${name} installed (MB)`).toBeLessThan(ALONE_LIMIT_MB);
    expect(existsSync(join(dir, 'node_modules', '@deprune', 'gpu')), 'no @deprune/gpu').toBe(false);
    if (name !== '@deprune/runtime') return;
    // The runtime alone runs a model on the wasm backend, and names the package a gpu.js mode needs.
    writeFileSync(join(dir, 'run.mjs'), RUNTIME_ALONE_SCRIPT);
    const report = JSON.parse(await run('node', ['run.mjs'], dir)) as { mode: string; y: number[]; refusal: string };
    expect(report.mode).toBe('wasm');
    expect(report.y).toEqual([18, 21, 24, 27]);
    expect(report.refusal).toMatch(/^UnsupportedError: mode cpu runs on gpu\.js through @deprune\/gpu, which is not installed.*npm install @deprune\/gpu/);
  });

  // `deprune bench --browser chromium` runs from the installed @deprune/bench, which must bring
  // the page its runner drives (built by the package, not by the private apps/bench).
  it.runIf(declared.has('@deprune/bench'))('the installed @deprune/bench finds its runner page', async () => {
    const folder = (
      await run('node', ['--input-type=module', '-e', "const { pageFolderPath } = await import('@deprune/bench'); console.log(pageFolderPath());"], consumerDir)
    ).trim();
    expect(folder).toBe(join(consumerDir, 'node_modules', '@deprune', 'bench', 'dist', 'page'));
    expect(existsSync(join(folder, 'index.html'))).toBe(true);
    expect(readdirSync(join(folder, 'assets')).some((file) => file.endsWith('.wasm')), 'onnxruntime-web\'s wasm file ships with the page').toBe(true);
  });
});
