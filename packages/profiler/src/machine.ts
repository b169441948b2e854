import { cpus, loadavg, release, totalmem, type } from 'node:os';
/** The machine a benchmark ran on, as recorded in every report. */
export interface MachineInfo {
  /** CPU model as the OS reports it. */
  cpu: string;
  /** Logical cores. */
  cores: number;
  memoryGiB: number;
  /** OS name and kernel release. */
  os: string;
  /** Node version ('' for a page opened by hand: no Node side). */
  node: string;
  /**
   * gpu.js version, where the run could use a gpu.js mode (the bench adds it; the profiler profiles
   * any backend and does not load gpu.js to name it).
   */
  gpuJs?: string;
  /** 1, 5 and 15 minute load averages when the run started: other work on a shared machine is noise. Empty where unknown (a browser page). */
  loadAverage: number[];
  /** When the suite ran in a browser page (driven from this Node): the browser and what computed, e.g. the WebGL2 renderer. */
  browser?: string;
}

export function machineInfo(): MachineInfo {
  const processors = cpus();
  return {
    cpu: (processors[0]?.model ?? 'unknown CPU').replace(/\s+/g, ' ').trim(),
    cores: processors.length,
    memoryGiB: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    os: `${type()} ${release()}`,
    node: process.version,
    loadAverage: loadavg().map((value) => Math.round(value * 100) / 100),
  };
}

/** One line: `Intel Xeon ..., 2 cores, 23.5 GiB, Linux 6.1, Node v20.20.2, gpu.js 2.24.1 (load 1.2 0.9 0.8)` (gpu.js where recorded). */
export function machineLine(machine: MachineInfo): string {
  const browser = machine.browser === undefined ? '' : `, in ${machine.browser}`;
  const node = machine.node === '' ? '' : `, Node ${machine.node}`;
  const load = machine.loadAverage.length === 0 ? 'load average unknown' : `load average at start ${machine.loadAverage.join(' ')}`;
  const gpuJs = machine.gpuJs === undefined ? '' : `, gpu.js ${machine.gpuJs}`;
  return `${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, ${machine.os}${node}${browser}${gpuJs} (${load})`;
}
