/** The first line of an error's message: what a one-line reason string can carry. */
export function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n')[0].trim().replace(/[:.]$/, '');
}

/** gpu.js's GL kernel classes all report `mode` 'gpu'; compare backends by family. */
function backendFamily(mode: string): string {
  return mode === 'gpu' || mode === 'webgl' || mode === 'webgl2' || mode === 'headlessgl' ? 'gl' : mode;
}

/**
 * gpu.js may quietly run a kernel on another backend (webasm degrades to cpu for features it
 * lacks). After a kernel's first call: undefined if it ran in `mode`'s backend, else where it ran
 * and why. With `expected` (the kernel class the mode's `GPU` instance chose, `gpu.Kernel`), the
 * check is exact: a GL kernel must be that very class (WebGL2Kernel, HeadlessGLKernel), not just
 * some GL kernel (every GL class reports mode 'gpu').
 */
export function degradation(kernel: { kernel?: unknown }, mode: string, expected?: unknown): { ran: string; reason: string } | undefined {
  const inner = kernel.kernel as { constructor?: { mode?: string; name?: string }; fallbackReason?: string | null } | undefined;
  const ran = inner?.constructor?.mode;
  if (ran === undefined) return undefined;
  if (backendFamily(ran) !== backendFamily(mode)) return { ran, reason: inner?.fallbackReason ?? 'no reason given' };
  if (expected !== undefined && inner?.constructor !== expected) {
    const name = (expected as { name?: string } | null)?.name ?? 'the mode\'s kernel class';
    return { ran: inner?.constructor?.name ?? ran, reason: `gpu.js built it as ${inner?.constructor?.name ?? 'another kernel class'}, not ${name}` };
  }
  return undefined;
}
