import { defineConfig, type Options } from 'tsup';

/**
 * The page bundle runs in a browser, where the Node built-ins do not exist. `node:os` (machine.ts,
 * never called in a page: the report's machine record comes from the Node side) becomes a module
 * whose functions throw; the other built-ins are dynamic imports behind an is-this-Node check
 * (@deprune/gpu's probes) and stay external.
 */
const nodeOsStub: NonNullable<Options['esbuildPlugins']>[number] = {
  name: 'node-os-stub',
  setup(build) {
    build.onResolve({ filter: /^(node:)?os$/ }, () => ({ path: 'node:os', namespace: 'node-os-stub' }));
    build.onLoad({ filter: /.*/, namespace: 'node-os-stub' }, () => ({
      contents: "const unavailable = () => { throw new Error('node:os is not available in a browser page'); };\nexport const cpus = unavailable, loadavg = unavailable, release = unavailable, totalmem = unavailable, type = unavailable;",
      loader: 'js',
    }));
  },
};

export default defineConfig([
  {
    entry: ['src/index.ts'],
    format: ['esm', 'cjs'],
    dts: true,
    clean: true,
    sourcemap: true,
    target: 'node20',
    // import.meta.url in the CommonJS build (browser-suite.ts finds the page bundle with it).
    shims: true,
  },
  {
    // One ES module with everything the page needs, gpu.js's browser build included.
    entry: { 'browser/kernel-suite-page': 'src/browser/kernel-suite-page.ts' },
    format: ['esm'],
    platform: 'browser',
    target: 'es2022',
    dts: false,
    clean: false,
    sourcemap: false,
    // Every package inside, but the built-ins (tsup prints @deprune/gpu's `import('node:module')`
    // as `import('module')`).
    noExternal: [/^(?!node:(?!os$)|module$|url$)/],
    external: [/^node:(?!os$)/, 'module', 'url'],
    esbuildPlugins: [nodeOsStub],
    removeNodeProtocol: false,
  },
]);
