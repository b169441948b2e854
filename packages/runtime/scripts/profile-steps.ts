/**
 * Where a model's time goes in the runtime: one warm-up run, then one profiled run; prints the
 * time per kernel and the slowest steps. For finding what to speed up; the benchmark app is
 * where latency is reported.
 *
 *   npx tsx scripts/profile-steps.ts <model.onnx> <N,C,H,W> [mode]
 */
import { loadModel } from '@deprune/onnx/node';
import { createSession } from '../src/index';
import { randomInput } from '../test/helpers';

const [file, shapeText, mode = 'webasm'] = process.argv.slice(2);
if (file === undefined || shapeText === undefined) {
  console.error('usage: npx tsx scripts/profile-steps.ts <model.onnx> <N,C,H,W> [mode]');
  process.exit(2);
}
const session = await createSession(loadModel(file), { mode: mode as 'webasm' });
const feeds = { [session.inputNames[0]]: randomInput(shapeText.split(',').map(Number), 1) };
await session.run(feeds);
const { profile, ms } = await session.run(feeds, { profile: true });
const byKernel = new Map<string, number>();
for (const step of profile!) byKernel.set(step.kernel, (byKernel.get(step.kernel) ?? 0) + step.ms);
console.log(`total ${ms.toFixed(1)} ms (${session.mode})`);
for (const [kernel, total] of [...byKernel].sort((a, b) => b[1] - a[1])) console.log(`  ${kernel.padEnd(24)} ${total.toFixed(1)} ms`);
console.log('slowest steps:');
for (const step of [...profile!].sort((a, b) => b.ms - a.ms).slice(0, 10)) console.log(`  ${step.node} (${step.kernel}) ${step.ms.toFixed(1)} ms`);
