// Debug helper (not a test): compare every intermediate value of the runtime with onnxruntime.
import { onnx, serializeModel, parseModel, nodesOf, type OnnxModel } from '@deprune/onnx';
import { relativeL2Error } from '@deprune/tensor';
import { buildZooModel } from '@deprune/zoo';
import { createSession } from '../src/index';
import { ortRun, paddleModel, randomInput } from './helpers';

async function main() {
  const which = process.argv[2] ?? 'mnv3';
  const mode = (process.argv[3] ?? 'cpu') as 'cpu';
  let model: OnnxModel;
  let shape: number[];
  if (which === 'mnv3') { model = buildZooModel('mobilenetv3-small', { seed: 3, inputSize: 96 }); shape = [1, 3, 96, 96]; }
  else { model = paddleModel('ch_PP-OCRv4_det_infer.onnx'); shape = [1, 3, 96, 128]; }
  const names = nodesOf(model).flatMap((node) => (node.output ?? []).filter((o) => o && node.opType !== 'Constant'));
  const proto = onnx.ModelProto.decode(serializeModel(model));
  for (const name of names) proto.graph!.output!.push(onnx.ValueInfoProto.create({ name, type: { tensorType: { elemType: 1 } } }));
  const wide = parseModel(onnx.ModelProto.encode(proto).finish());
  const inputName = model.proto.graph!.input![0].name!;
  const feeds = { [inputName]: randomInput(shape, 11) };
  const expected = await ortRun(wide, feeds);
  const session = await createSession(model, { mode, fuse: process.argv[4] !== 'nofuse' });
  const { outputs } = await session.run(feeds, { fetch: names });
  for (const node of nodesOf(model)) {
    for (const name of node.output ?? []) {
      if (!outputs[name] || !expected[name]) continue;
      const e = relativeL2Error(outputs[name].data, expected[name].data);
      if (!(e < 1e-4)) { console.log(node.opType, node.name, name, outputs[name].shape, expected[name].shape, e); }
    }
  }
}
main();
