/**
 * What the page bundle gets for the Node built-ins that shared modules import: report.ts writes
 * files (node:fs, node:path), @deprune/profiler's machine.ts reads the host (node:os), @deprune/gpu probes Node-only
 * modes (module, url). In a page none of these is ever called (the page writes nothing, and its
 * machine record comes from the browser), so each is a function that says so if it ever is.
 */
const unavailable = (name: string) => () => {
  throw new Error(`${name} is a Node built-in, not available in the benchmark page`);
};

export const cpus = unavailable('os.cpus');
export const loadavg = unavailable('os.loadavg');
export const release = unavailable('os.release');
export const totalmem = unavailable('os.totalmem');
export const type = unavailable('os.type');
export const tmpdir = unavailable('os.tmpdir');
export const mkdirSync = unavailable('fs.mkdirSync');
export const renameSync = unavailable('fs.renameSync');
export const writeFileSync = unavailable('fs.writeFileSync');
export const readFileSync = unavailable('fs.readFileSync');
export const existsSync = unavailable('fs.existsSync');
export const join = unavailable('path.join');
export const dirname = unavailable('path.dirname');
export const resolve = unavailable('path.resolve');
export const fileURLToPath = unavailable('url.fileURLToPath');
export const pathToFileURL = unavailable('url.pathToFileURL');
export const createRequire = unavailable('module.createRequire');
export default {};
