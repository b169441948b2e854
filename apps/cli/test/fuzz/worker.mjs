/**
 * Runs fuzz cases in-process through the built CLI's main() (no process start per case). The
 * parent posts { id, argv } and gets { id, code, stdout, stderr, ms } back; it terminates this
 * worker when a case runs past its time limit, and an uncaught error or out-of-memory ends it.
 */
import { parentPort } from 'node:worker_threads';
import { main } from '../../dist/index.js';

parentPort.on('message', async ({ id, argv }) => {
  let stdout = '';
  let stderr = '';
  const io = {
    stdout: { write: (text) => ((stdout += text), true) },
    stderr: { write: (text) => ((stderr += text), true) },
    now: () => Date.now(),
  };
  const started = performance.now();
  const code = await main(argv, { io });
  parentPort.postMessage({ id, code, stdout, stderr, ms: performance.now() - started });
});
