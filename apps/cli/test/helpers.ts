import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The built bin. The tests run it as users do; turbo's test task builds it first. */
export const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

export function assertBuilt(): void {
  if (!existsSync(CLI)) {
    throw new Error(`${CLI} is missing: build the CLI first (cd apps/cli && npx tsup, or npx -y pnpm@12.4.2 build at the root)`);
  }
}

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `node dist/cli.js ...args` and returns its exit status and output. */
export function runCli(args: readonly string[], options: { cwd?: string; timeout?: number } = {}): CliResult {
  assertBuilt();
  const result = spawnSync(process.execPath, [CLI, ...args], {
    cwd: options.cwd,
    encoding: 'utf8',
    timeout: options.timeout ?? 120_000,
    maxBuffer: 64 * 1024 * 1024,
    env: { ...process.env, NO_COLOR: '1' },
  });
  if (result.error) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Runs with --json and parses stdout, which must be exactly one JSON document. */
export function runJson<T = Record<string, unknown>>(args: readonly string[], options: { cwd?: string } = {}): { result: CliResult; document: T } {
  const result = runCli([...args, '--json'], options);
  if (result.status !== 0) throw new Error(`deprune ${args.join(' ')} --json exited ${result.status}: ${result.stderr}`);
  return { result, document: JSON.parse(result.stdout) as T };
}

/**
 * `runCli` without blocking the test worker: for runs of many seconds (a blocked worker misses
 * vitest's RPC deadlines and the run reports an unhandled timeout).
 */
export function runCliAsync(args: readonly string[], options: { cwd?: string; timeout?: number } = {}): Promise<CliResult> {
  assertBuilt();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: options.cwd, env: { ...process.env, NO_COLOR: '1' }, timeout: options.timeout ?? 240_000 });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.once('error', reject);
    child.once('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/** `runJson` without blocking the test worker. */
export async function runJsonAsync<T = Record<string, unknown>>(args: readonly string[], options: { cwd?: string } = {}): Promise<{ result: CliResult; document: T }> {
  const result = await runCliAsync([...args, '--json'], options);
  if (result.status !== 0) throw new Error(`deprune ${args.join(' ')} --json exited ${result.status}: ${result.stderr}`);
  return { result, document: JSON.parse(result.stdout) as T };
}

/** A fresh temporary folder; remove it with `cleanup`. */
export function tempDir(prefix = 'deprune-cli-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function cleanup(folder: string): void {
  rmSync(folder, { recursive: true, force: true });
}

/** Every file under `folder`, relative paths, sorted (to prove a failed command created nothing). */
export function listFiles(folder: string): string[] {
  return (readdirSync(folder, { recursive: true }) as string[]).sort();
}
