import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * `pnpm --filter @deprune/bench-app page` (scripts/page.mjs): serves the built page and prints the
 * URL it serves. Plain `vite preview` printed nothing here (the config's logLevel 'warn' hides its
 * URL lines), so the printed URL is checked by fetching it.
 */
const script = fileURLToPath(new URL('../scripts/page.mjs', import.meta.url));
const pageFolder = fileURLToPath(new URL('../dist/page', import.meta.url));

/** The first stdout line that names the URL, or a failure with what the script printed. */
function printedUrl(child: ReturnType<typeof spawn>, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`no URL printed within ${timeoutMs} ms; output: ${output}`)), timeoutMs);
    const collect = (chunk: Buffer) => {
      output += chunk.toString();
      const url = /^benchmark page: (http:\/\/\S+)$/m.exec(output)?.[1];
      if (url !== undefined) {
        clearTimeout(timer);
        resolve(url);
      }
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`page script exited (${code}) before printing a URL; output: ${output}`));
    });
  });
}

describe('the page script', () => {
  it('serves the built page, cross-origin isolated, at the URL it prints', async () => {
    expect(existsSync(`${pageFolder}/index.html`), 'the page is built (npx -y pnpm@12.4.2 --filter @deprune/bench-app build)').toBe(true);
    const child = spawn(process.execPath, [script, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const url = await printedUrl(child, 30_000);
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:[1-9][0-9]*\/$/);
      const response = await fetch(url);
      expect(response.status).toBe(200);
      expect(response.headers.get('cross-origin-opener-policy')).toBe('same-origin');
      expect(response.headers.get('cross-origin-embedder-policy')).toBe('require-corp');
      expect(await response.text()).toContain('<form id="setup">');
      // The bundled models are served too (the page offers them offline).
      expect((await fetch(new URL('models/ch_ppocr_mobile_v2.0_cls_infer.onnx', url))).status).toBe(200);
    } finally {
      child.kill();
    }
  }, 60_000);

  it('refuses a port that is not a number', async () => {
    const child = spawn(process.execPath, [script, '--port', 'x'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(2);
    expect(stderr).toContain("--port takes a port number (0: any free port), got 'x'");
  });
});
