/** gpu.js as pinned in this package's dependencies (recorded in tables and reports). */
export const GPU_JS_VERSION = '2.24.1';
