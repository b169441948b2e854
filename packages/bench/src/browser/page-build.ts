/**
 * The Vite settings every page that bundles the suites needs: the runner page of this package
 * (vite.config.ts) and the benchmark page of apps/bench. Plain objects, so this module needs no
 * Vite types; each page's config spreads them into `defineConfig`.
 */

/** Cross-origin isolation (SharedArrayBuffer, so onnxruntime-web may use threads) for `vite` and `vite preview`. */
export const PAGE_ISOLATION_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-embedder-policy': 'require-corp',
});

/** Node built-ins that shared modules import but a page never calls, aliased to `stub` (node-stub.ts). */
export function nodeBuiltinAlias(stub: string): { find: RegExp; replacement: string }[] {
  return [{ find: /^(node:)?(os|fs|path|url|module)$/, replacement: stub }];
}

/** The `build` options of a page written to `outDir`. */
export function pageBuildOptions(outDir: string) {
  return {
    outDir,
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
      onwarn(warning: { message: string }, warn: (warning: { message: string }) => void): void {
        // Modules both imported and dynamically imported (vega by report.ts, the Node stub by
        // @deprune/gpu's Node-only probes) simply stay in the one chunk: not worth a warning.
        if (warning.message.includes('dynamic import will not move module into another chunk')) return;
        warn(warning);
      },
    },
  };
}
