/**
 * The runner page (runner-page/), built into dist/page/ after tsup (the package's `build`): what
 * `runSuiteInBrowser` serves to headless Chromium. Everything it needs ships inside:
 * onnxruntime-web's .wasm file and glue (imported with `?url`) and the packages' code. Models come
 * from the runner (/model.onnx) or are built in the page (zoo), so none is bundled.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import { nodeBuiltinAlias, PAGE_ISOLATION_HEADERS, pageBuildOptions } from './src/browser/page-build';

const here = dirname(fileURLToPath(import.meta.url));


export default defineConfig({
  root: join(here, 'runner-page'),
  base: './',
  logLevel: 'warn',
  resolve: {
    alias: nodeBuiltinAlias(join(here, 'src', 'browser', 'node-stub.ts')),
  },
  // onnxruntime-web loads its own wasm; pre-bundling would break its URLs in `vite` (dev).
  optimizeDeps: { exclude: ['onnxruntime-web'] },
  server: { headers: PAGE_ISOLATION_HEADERS },
  build: pageBuildOptions(join(here, 'dist', 'page')),
});
