/**
 * `@deprune/gpu/chromium` (Node only): running code in headless Chromium, for the gpu.js modes
 * that exist only in a browser (webgl2, webgpu). Used by this package's browser parity suite and by
 * `@deprune/bench`'s suites and benchmark page. It serves an ES module (a browser bundle's text) or
 * a folder of built files (the Vite page), and any assets, from a
 * loopback-only HTTP server (127.0.0.1, random port: a secure context, which WebGPU needs, and
 * about:blank is not one), opens it in the system's Chromium through playwright-core (no
 * `playwright install`: Debian's /usr/bin/chromium, a fresh empty profile, SwiftShader for WebGL2
 * and WebGPU, flags as measured in docs/environment.md), waits for the module to publish its API
 * on `globalThis[globalName]`, and calls that API's functions with plain JSON arguments.
 *
 * playwright-core is an optional peer dependency, loaded only here: a user who never runs a
 * browser mode never needs it.
 */
import { accessSync, constants, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, resolve, sep } from 'node:path';
import { UnsupportedError } from '@deprune/errors';
import type { Page } from 'playwright-core';

/** Debian's `chromium` package; DEPRUNE_CHROMIUM overrides it. */
export const DEFAULT_CHROMIUM_PATH = '/usr/bin/chromium';

/** Where Chromium is: DEPRUNE_CHROMIUM, else Debian's `chromium` package. */
export function chromiumPath(): string {
  return process.env.DEPRUNE_CHROMIUM || DEFAULT_CHROMIUM_PATH;
}

/** SwiftShader for both GPU APIs (CPU implementations: right numbers, meaningful ratios, not GPU timings). */
export const CHROMIUM_FLAGS: readonly string[] = [
  '--headless=new',
  '--no-sandbox',
  '--enable-unsafe-webgpu',
  '--use-webgpu-adapter=swiftshader',
  '--enable-features=Vulkan',
  '--use-angle=swiftshader',
  // globalThis.gc for the benchmark page: a full GC before every timed call (see @deprune/bench).
  '--js-flags=--expose-gc',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** Why Chromium cannot be started here (one line), or undefined. */
export function chromiumMissingReason(path = chromiumPath()): string | undefined {
  try {
    accessSync(path, constants.X_OK);
    return undefined;
  } catch {
    return `no Chromium at ${path} (apt package chromium, or set DEPRUNE_CHROMIUM to a Chromium/Chrome binary)`;
  }
}

/** `promise`, or an Error naming `what` after `ms`. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export interface BrowserPageOptions {
  /** The ES module the page loads (a browser bundle's text), at '/entry.js' behind a generated '/'. Give this or `root`. */
  script?: string;
  /**
   * A folder of built files (a Vite build) served as they are, its `index.html` at '/': a page
   * that is its own app. `assets` are served in front of it.
   */
  root?: string;
  /**
   * Extra headers on every response. `{ 'cross-origin-opener-policy': 'same-origin',
   * 'cross-origin-embedder-policy': 'require-corp' }` makes the page cross-origin isolated, which
   * WebAssembly threads (SharedArrayBuffer) need.
   */
  headers?: Readonly<Record<string, string>>;
  /** The global the module sets to its API object once it is ready. */
  globalName: string;
  /** More files to serve, by path ('/model.onnx'). */
  assets?: Readonly<Record<string, Uint8Array | string>>;
  /** Node functions the page may call (playwright's exposeFunction), by global name. */
  expose?: Readonly<Record<string, (...args: never[]) => unknown>>;
  /** Page title. */
  title?: string;
  /** Limit for starting Chromium and loading the page. Default 60 s. */
  timeoutMs?: number;
  executablePath?: string;
}

export interface BrowserPage {
  /** Chromium's version. */
  version: string;
  /** The page's console errors and warnings and uncaught errors, for failure messages. */
  messages: string[];
  /** Calls `globalThis[globalName][name](arg)` in the page and returns its (JSON) result. */
  call<T>(name: string, arg: unknown, timeoutMs: number): Promise<T>;
  /** The playwright page itself, for driving a page's own UI (clicks, form fields, downloads). */
  page: Page;
  close(): Promise<void>;
}

/** Content types by file extension: module scripts and WebAssembly (streaming compilation) need theirs. */
const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.wasm': 'application/wasm',
  '.txt': 'text/plain; charset=utf-8',
};

function contentType(path: string): string {
  return CONTENT_TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream';
}

/** The file under `root` that `path` names, or undefined (outside the folder, missing, a folder). */
function fileUnder(root: string, path: string): string | undefined {
  const base = resolve(root);
  let decoded: string;
  try {
    decoded = decodeURIComponent(path === '/' ? '/index.html' : path);
  } catch {
    return undefined;
  }
  const file = resolve(base, `.${decoded}`);
  if (!file.startsWith(base + sep)) return undefined;
  try {
    return statSync(file).isFile() ? file : undefined;
  } catch {
    return undefined;
  }
}

function serve(options: BrowserPageOptions): Promise<Server> {
  const assets = options.assets ?? {};
  const headers = options.headers ?? {};
  const server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    const file = options.root === undefined ? undefined : fileUnder(options.root, path);
    if (options.script !== undefined && path === '/entry.js') {
      response.writeHead(200, { ...headers, 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-store' });
      response.end(options.script);
    } else if (options.script !== undefined && path === '/') {
      response.writeHead(200, { ...headers, 'content-type': 'text/html; charset=utf-8' });
      response.end(`<!doctype html><meta charset="utf-8"><title>${options.title ?? 'deprune'}</title><script type="module" src="/entry.js"></script>`);
    } else if (Object.hasOwn(assets, path)) {
      response.writeHead(200, { ...headers, 'content-type': 'application/octet-stream', 'cache-control': 'no-store' });
      response.end(assets[path]);
    } else if (file !== undefined) {
      response.writeHead(200, { ...headers, 'content-type': contentType(file), 'cache-control': 'no-store' });
      response.end(readFileSync(file));
    } else {
      response.writeHead(path === '/favicon.ico' ? 204 : 404, headers).end();
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

/** Serves the script and assets, opens them in headless Chromium and waits for the API; throws saying which step failed. */
export async function openBrowserPage(options: BrowserPageOptions): Promise<BrowserPage> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  if (options.script === undefined && options.root === undefined) throw new TypeError('openBrowserPage needs a script or a root folder');
  const executablePath = options.executablePath ?? chromiumPath();
  const missing = chromiumMissingReason(executablePath);
  if (missing !== undefined) throw new UnsupportedError(`headless Chromium is needed for the browser modes: ${missing}`);
  let playwright: typeof import('playwright-core');
  try {
    playwright = await import('playwright-core');
  } catch (cause) {
    throw new UnsupportedError('the browser modes need the playwright-core package (npm install playwright-core; no browser download)', { cause });
  }
  const server = await serve(options);
  const profile = mkdtempSync(join(tmpdir(), 'deprune-chromium-'));
  let context: Awaited<ReturnType<typeof playwright.chromium.launchPersistentContext>> | undefined;
  const cleanup = async () => {
    await context?.close().catch(() => undefined);
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(profile, { recursive: true, force: true });
  };
  try {
    // launchPersistentContext is playwright's way to pass --user-data-dir: a new, empty profile.
    context = await withTimeout(
      playwright.chromium.launchPersistentContext(profile, { executablePath, headless: true, args: [...CHROMIUM_FLAGS], timeout: timeoutMs }),
      timeoutMs,
      `launching ${executablePath}`,
    );
    const page = context.pages()[0] ?? (await context.newPage());
    const messages: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning') messages.push(`console.${message.type()}: ${message.text()}`);
    });
    page.on('pageerror', (error) => messages.push(`page error: ${error.message}`));
    for (const [name, fn] of Object.entries(options.expose ?? {})) await page.exposeFunction(name, fn);
    const { port } = server.address() as AddressInfo;
    await page.goto(`http://127.0.0.1:${port}/`, { timeout: timeoutMs });
    await page.waitForFunction((name) => name in globalThis, options.globalName, { timeout: timeoutMs });
    const version = context.browser()?.version() ?? (await page.evaluate(() => navigator.userAgent));
    return {
      version,
      messages,
      call: <T>(name: string, arg: unknown, callTimeoutMs: number) =>
        withTimeout(
          page.evaluate(
            ([api, fn, value]) => (globalThis as unknown as Record<string, Record<string, (input: unknown) => unknown>>)[api][fn](value),
            [options.globalName, name, arg] as const,
          ) as Promise<T>,
          callTimeoutMs,
          `${options.globalName}.${name} in Chromium`,
        ),
      page,
      close: cleanup,
    };
  } catch (error) {
    await cleanup();
    throw error;
  }
}
