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
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
