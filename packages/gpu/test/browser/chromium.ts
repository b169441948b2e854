/**
 * Node side of the browser suite: bundles test/browser/entry.ts with esbuild, serves it from a
 * loopback-only HTTP server (127.0.0.1, random port: a secure context, which WebGPU needs;
 * about:blank is not one), and opens it in the system's headless Chromium through playwright-core
 * (no `playwright install`: Debian's /usr/bin/chromium, a fresh empty profile, SwiftShader for
 * WebGL2 and WebGPU).
 */
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BrowserContext, Page } from 'playwright-core';
import type { DepruneParityApi } from './entry';

/** Where Chromium is: DEPRUNE_CHROMIUM, else Debian's `chromium` package. */
export const CHROMIUM_PATH = process.env.DEPRUNE_CHROMIUM || '/usr/bin/chromium';

/** SwiftShader for both GPU APIs (CPU implementations: right numbers, not GPU timings). See docs/environment.md. */
export const CHROMIUM_FLAGS = [
  '--headless=new',
  '--no-sandbox',
  '--enable-unsafe-webgpu',
  '--use-webgpu-adapter=swiftshader',
  '--enable-features=Vulkan',
  '--use-angle=swiftshader',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

const ENTRY = fileURLToPath(new URL('./entry.ts', import.meta.url));

export class StepTimeout extends Error {}

/** `promise`, or a StepTimeout naming `what` after `ms`. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new StepTimeout(`${what} took longer than ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Why Chromium cannot be used here (a one-line reason), or undefined. */
export function chromiumMissingReason(): string | undefined {
  try {
    accessSync(CHROMIUM_PATH, constants.X_OK);
    return undefined;
  } catch {
    return `no Chromium at ${CHROMIUM_PATH} (apt package chromium, or set DEPRUNE_CHROMIUM to a Chromium/Chrome binary)`;
  }
}

/** The browser entry as one ES module (gpu.js resolves to its browser build; Node-only imports stay out). */
export async function bundleEntry(): Promise<string> {
  const esbuild = await import('esbuild');
  const result = await esbuild.build({
    entryPoints: [ENTRY],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    // src/node-probes.ts imports these dynamically, behind isNode(): never evaluated in a page.
    external: ['node:*'],
    logLevel: 'silent',
  });
  return result.outputFiles[0].text;
}

function serve(script: string): Promise<Server> {
  const server = createServer((request, response) => {
    if (request.url === '/entry.js') {
      response.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-store' });
      response.end(script);
    } else if (request.url === '/') {
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      response.end('<!doctype html><meta charset="utf-8"><title>@deprune/gpu parity</title><script type="module" src="/entry.js"></script>');
    } else {
      response.writeHead(request.url === '/favicon.ico' ? 204 : 404).end();
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

export interface ChromiumSession {
  page: Page;
  /** Chromium's version string. */
  version: string;
  /** The page's console errors and warnings and uncaught errors, for failure messages. */
  messages: string[];
  call<K extends keyof DepruneParityApi>(name: K, arg: Parameters<DepruneParityApi[K]>[0], timeoutMs: number): Promise<Awaited<ReturnType<DepruneParityApi[K]>>>;
  close(): Promise<void>;
}

/** Bundles, serves and opens the entry in headless Chromium; throws saying which step failed. */
export async function openChromium(timeoutMs = 60_000): Promise<ChromiumSession> {
  const script = await withTimeout(bundleEntry(), timeoutMs, 'bundling test/browser/entry.ts');
  const { chromium } = await import('playwright-core');
  const server = await serve(script);
  const profile = mkdtempSync(join(tmpdir(), 'deprune-chromium-'));
  let context: BrowserContext | undefined;
  const cleanup = async () => {
    await context?.close().catch(() => undefined);
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(profile, { recursive: true, force: true });
  };
  try {
    // launchPersistentContext is playwright's way to pass --user-data-dir: a new, empty profile.
    context = await withTimeout(
      chromium.launchPersistentContext(profile, { executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_FLAGS, timeout: timeoutMs }),
      timeoutMs,
      `launching ${CHROMIUM_PATH}`,
    );
    const page = context.pages()[0] ?? (await context.newPage());
    const messages: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning') messages.push(`console.${message.type()}: ${message.text()}`);
    });
    page.on('pageerror', (error) => messages.push(`page error: ${error.message}`));
    const { port } = server.address() as AddressInfo;
    await page.goto(`http://127.0.0.1:${port}/`, { timeout: timeoutMs });
    await page.waitForFunction(() => 'depruneParity' in globalThis, undefined, { timeout: timeoutMs });
    const version = context.browser()?.version() ?? (await page.evaluate(() => navigator.userAgent));
    return {
      page,
      version,
      messages,
      call: (name, arg, callTimeoutMs) =>
        withTimeout(
          page.evaluate(
            ([fn, value]) => (globalThis as unknown as { depruneParity: Record<string, (input: unknown) => unknown> }).depruneParity[fn](value),
            [name, arg] as const,
          ) as Promise<never>,
          callTimeoutMs,
          `depruneParity.${name} in Chromium`,
        ),
      close: cleanup,
    };
  } catch (error) {
    await cleanup();
    throw error;
  }
}
