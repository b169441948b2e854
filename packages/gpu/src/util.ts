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
 * and why.
 */
export function degradation(kernel: { kernel?: unknown }, mode: string): { ran: string; reason: string } | undefined {
  const inner = kernel.kernel as { constructor?: { mode?: string }; fallbackReason?: string | null } | undefined;
  const ran = inner?.constructor?.mode;
  if (ran === undefined || backendFamily(ran) === backendFamily(mode)) return undefined;
  return { ran, reason: inner?.fallbackReason ?? 'no reason given' };
}
