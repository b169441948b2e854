/**
 * Debugging aid: runs a model in the runtime and in onnxruntime-node with every node output
 * exposed, and prints the values whose relative L2 error exceeds 1e-4 (the first one is where to
 * look). Fetching every value turns fusion off, so this checks the operators one by one.
 *
 *   npx tsx scripts/compare-intermediates.ts <model.onnx> <N,C,H,W> [mode]
 */
import { inferShapes, nodesOf } from '@deprune/onnx';
import { loadModel } from '@deprune/onnx/node';
import { relativeL2Error } from '@deprune/tensor';
import { createSession } from '../src/index';
import { ortRun, randomInput, withOutputs } from '../test/helpers';

const [file, shapeText, mode = 'cpu'] = process.argv.slice(2);
if (file === undefined || shapeText === undefined) {
  console.error('usage: npx tsx scripts/compare-intermediates.ts <model.onnx> <N,C,H,W> [mode]');
  process.exit(2);
}
const model = loadModel(file);
const shape = shapeText.split(',').map(Number);
const session = await createSession(model, { mode: mode as 'cpu' });
// Values known before run time (shape arithmetic, often integer-typed) are not compared.
const { values } = inferShapes(model, { inputShapes: { [session.inputNames[0]]: shape } });
const names = nodesOf(model).flatMap((node) => (node.opType === 'Constant' ? [] : (node.output ?? []).filter((name) => name !== '' && !values.has(name))));
const feeds = { [session.inputNames[0]]: randomInput(shape, 11) };
const expected = await ortRun(withOutputs(model, names), feeds);
const { outputs } = await session.run(feeds, { fetch: names });
let differing = 0;
for (const node of nodesOf(model)) {
  for (const name of node.output ?? []) {
    if (outputs[name] === undefined || expected[name] === undefined) continue;
    const error = relativeL2Error(outputs[name].data, expected[name].data);
    if (!(error < 1e-4)) {
      differing++;
      console.log(`${node.opType} ${node.name} -> ${name} [${outputs[name].shape.join(', ')}]: relative L2 error ${error.toExponential(2)}`);
    }
  }
}
console.log(`${names.length} values compared, ${differing} differ by more than 1e-4`);
