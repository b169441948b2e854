/**
 * The runner page (runner-page/), built into dist/page/ after tsup (the package's `build`): what
 * `runSuiteInBrowser` serves to headless Chromium. Everything it needs ships inside:
 * onnxruntime-web's .wasm file and glue (imported with `?url`) and the packages' code. Models come
 * from the runner (/model.onnx) or are built in the page (zoo), so none is bundled.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = dirname(fileURLToPath(import.meta.url));

/** Cross-origin isolation (SharedArrayBuffer, so onnxruntime-web may use threads) for `vite` (dev) on this page. */
const isolation = { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' };

export default defineConfig({
  root: join(here, 'runner-page'),
  base: './',
  logLevel: 'warn',
  resolve: {
    // Node built-ins that shared modules import but a page never calls (see src/browser/node-stub.ts).
    alias: [{ find: /^(node:)?(os|fs|path|url|module)$/, replacement: join(here, 'src', 'browser', 'node-stub.ts') }],
  },
  // onnxruntime-web loads its own wasm; pre-bundling would break its URLs in `vite` (dev).
  optimizeDeps: { exclude: ['onnxruntime-web'] },
  server: { headers: isolation },
  build: {
    outDir: join(here, 'dist', 'page'),
    emptyOutDir: true,
    target: 'es2022',
    // gpu.js compiles kernels from their source text (GLSL, WGSL): a minifier's rewrites (`if`
    // turned into `&&` chains, renamed helpers) break them in the GL modes. Kept readable.
    minify: false,
    // gpu.js, vega and onnxruntime-web make one large chunk; that is expected here.
    chunkSizeWarningLimit: 8000,
    assetsInlineLimit: 0,
    reportCompressedSize: false,
    rollupOptions: {
      onwarn(warning, warn) {
        // Modules both imported and dynamically imported (vega by report.ts, the Node stub by
        // @deprune/gpu's Node-only probes) simply stay in the one chunk: not worth a warning.
        if (warning.message.includes('dynamic import will not move module into another chunk')) return;
        warn(warning);
      },
    },
  },
});
