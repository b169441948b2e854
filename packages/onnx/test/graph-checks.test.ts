import { describe, expect, it } from 'vitest';
import { InvalidGraphError } from '@deprune/errors';
import { checkConvGroups, checkGraphStructure, GraphBuilder, inferShapes, onnx, parseModel, type GraphProto, type OnnxModel } from '../src/index';
import { randn } from './helpers/graphs';

/** x[1,4,8,8] -> dw (DW 3x3) -> pw (PW 4 -> 8) -> relu; the builder only makes valid graphs. */
function dsconvBuilder(options: { dwGroup?: number; dwWeight?: number[] } = {}): GraphBuilder {
  const b = new GraphBuilder({ name: 'checked' });
  const x = b.input('x', [1, 4, 8, 8]);
  const dwShape = options.dwWeight ?? [4, 1, 3, 3];
  const dw = b.node('Conv', [x, b.weight('dw.w', randn(dwShape, 1))], { group: options.dwGroup ?? 4, pads: [1, 1, 1, 1] }, { name: 'dw', outputs: ['dw_out'] });
  const pw = b.node('Conv', [dw, b.weight('pw.w', randn([8, 4, 1, 1], 2))], {}, { name: 'pw', outputs: ['pw_out'] });
  b.output(b.node('Relu', [pw], {}, { name: 'relu', outputs: ['y'] }));
  return b;
}

/** The valid model with its graph edited afterwards, as a hostile or broken exporter would write it. */
function edited(edit: (graph: GraphProto) => void): OnnxModel {
  const proto = dsconvBuilder().toProto();
  edit(proto.graph as GraphProto);
  return parseModel(onnx.ModelProto.encode(onnx.ModelProto.create(proto)).finish(), { source: 'broken.onnx' });
}

/** The valid model with its ModelProto edited afterwards (IR version, opset imports). */
function editedModel(edit: (proto: ReturnType<GraphBuilder['toProto']>) => void): OnnxModel {
  const proto = dsconvBuilder().toProto();
  edit(proto);
  return parseModel(onnx.ModelProto.encode(onnx.ModelProto.create(proto)).finish(), { source: 'broken.onnx' });
}

function refusal(check: () => void): InvalidGraphError {
  try {
    check();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidGraphError);
    return error as InvalidGraphError;
  }
  throw new Error('expected an InvalidGraphError');
}

const node = (graph: GraphProto, name: string) => graph.node!.find((each) => each.name === name)!;

describe('checkGraphStructure', () => {
  it('accepts a valid graph', () => {
    expect(() => checkGraphStructure(dsconvBuilder().build())).not.toThrow();
  });

  it('refuses a node input that nothing defines, naming the node', () => {
    const error = refusal(() => checkGraphStructure(edited((graph) => (node(graph, 'pw').input![0] = 'ghost'))));
    expect(error.node).toBe('pw');
    expect(error.file).toBe('broken.onnx');
    expect(error.code).toBe('INVALID_MODEL');
    expect(error.message).toMatch(/node 'pw': input 'ghost' is not defined/);
  });

  it('refuses a cycle, naming a node on it', () => {
    // dw reads relu's output y: dw -> pw -> relu -> dw.
    const error = refusal(() => checkGraphStructure(edited((graph) => (node(graph, 'dw').input![0] = 'y'))));
    expect(['dw', 'pw', 'relu']).toContain(error.node);
    expect(error.message).toMatch(/cycle/);
  });

  it('refuses a node that reads its own output', () => {
    const error = refusal(() => checkGraphStructure(edited((graph) => (node(graph, 'relu').input![0] = 'y'))));
    expect(error.node).toBe('relu');
    expect(error.message).toMatch(/cycle/);
  });

  it('refuses nodes out of topological order (acyclic), naming the early reader', () => {
    const error = refusal(() => checkGraphStructure(edited((graph) => graph.node!.reverse())));
    expect(error.node).toBe('relu');
    expect(error.message).toMatch(/reads 'pw_out' before node 'pw' produces it/);
  });

  it('refuses a value assigned twice', () => {
    const error = refusal(() => checkGraphStructure(edited((graph) => (node(graph, 'relu').output![0] = 'dw_out'))));
    expect(error.node).toBe('relu');
    expect(error.message).toMatch(/output 'dw_out' is assigned twice/);
  });

  it('refuses a node output that shadows a graph input or an initializer', () => {
    expect(refusal(() => checkGraphStructure(edited((graph) => (node(graph, 'dw').output![0] = 'x')))).node).toBe('dw');
    expect(refusal(() => checkGraphStructure(edited((graph) => (node(graph, 'relu').output![0] = 'pw.w')))).node).toBe('relu');
  });

  it('refuses a graph output listed twice or never defined', () => {
    expect(refusal(() => checkGraphStructure(edited((graph) => graph.output!.push({ ...graph.output![0] })))).message).toMatch(/graph output 'y' is listed twice/);
    expect(refusal(() => checkGraphStructure(edited((graph) => (graph.output![0].name = 'nowhere')))).message).toMatch(/graph output 'nowhere' is not defined/);
  });
});

describe('checkConvGroups', () => {
  it('accepts depth-wise and point-wise convs', () => {
    const model = dsconvBuilder().build();
    expect(() => checkConvGroups(model, inferShapes(model).shapes)).not.toThrow();
  });

  it('refuses a group that does not divide the output channels, even without shapes', () => {
    const error = refusal(() => checkConvGroups(dsconvBuilder({ dwGroup: 3, dwWeight: [4, 1, 3, 3] }).build()));
    expect(error.node).toBe('dw');
    expect(error.message).toMatch(/group 3 does not divide the 4 output channels/);
  });

  it('refuses a group that does not divide the input channels', () => {
    // 6 output channels divide by 3, the input's 4 channels do not.
    const model = dsconvBuilder({ dwGroup: 3, dwWeight: [6, 1, 3, 3] }).build();
    const error = refusal(() => checkConvGroups(model, inferShapes(model).shapes));
    expect(error.node).toBe('dw');
    expect(error.message).toMatch(/group 3 does not divide the 4 input channels/);
  });

  it('refuses a group of 0 or below', () => {
    expect(refusal(() => checkConvGroups(dsconvBuilder({ dwGroup: 0 }).build())).message).toMatch(/group 0 is not a positive integer/);
    expect(refusal(() => checkConvGroups(dsconvBuilder({ dwGroup: -4 }).build())).message).toMatch(/group -4 is not a positive integer/);
  });

  it('refuses a group that divides but disagrees with the weight', () => {
    // group 2: 4 input channels split in 2, but the weight's [4, 1, ...] expects 2 input channels.
    const model = dsconvBuilder({ dwGroup: 2 }).build();
    expect(refusal(() => checkConvGroups(model, inferShapes(model).shapes)).message).toMatch(/the input has 4 channels but the weight \[4, 1, 3, 3\] with group 2 expects 2/);
  });
});

describe('inferShapes and tensors no runtime can hold', () => {
  it('leaves a node unresolved, with the reason, when its output would have over 2^31 elements (a pad of 10^9)', () => {
    const b = new GraphBuilder({ name: 'padded' });
    const x = b.input('x', [1, 4, 8, 8]);
    b.output(b.node('Conv', [x, b.weight('pw.w', randn([16, 4, 1, 1], 3))], { pads: [2, 1e9, 1, 2] }, { name: 'pw', outputs: ['y'] }));
    const inference = inferShapes(b.build());
    expect(inference.shapes.has('y')).toBe(false);
    expect(inference.unresolved).toEqual([{ node: 'pw', opType: 'Conv', reason: 'output [1, 16, 11, 1000000010] would have 176000001760 elements, over the limit of 2^31' }]);
  });
});

describe('the ONNX checker rules prune did not enforce (found by the official checker on fuzzed models prune accepted)', () => {
  const { AttributeType } = onnx.AttributeProto;

  it('refuses an IR version before opset imports or newer than any known, and a node domain without an opset import', () => {
    expect(refusal(() => checkGraphStructure(editedModel((proto) => (proto.irVersion = 2)))).message).toMatch(/ir_version 2 predates opset imports/);
    expect(refusal(() => checkGraphStructure(editedModel((proto) => (proto.irVersion = 99)))).message).toMatch(/ir_version 99 is newer than ONNX IR 11/);
    expect(() => checkGraphStructure(editedModel((proto) => (proto.irVersion = 11)))).not.toThrow();
    const noDefault = refusal(() => checkGraphStructure(editedModel((proto) => (proto.opsetImport = [{ domain: 'ai.onnx.ml', version: 3 }]))));
    expect(noDefault.node).toBe('dw');
    expect(noDefault.message).toMatch(/domain 'ai.onnx' has no opset_import/);
    const ml = refusal(() => checkGraphStructure(edited((graph) => (node(graph, 'relu').domain = 'ai.onnx.ml'))));
    expect([ml.node, ml.message]).toEqual(['relu', expect.stringMatching(/domain 'ai.onnx.ml' has no opset_import/)]);
    // An explicit 'ai.onnx' import counts as the default domain.
    expect(() => checkGraphStructure(editedModel((proto) => (proto.opsetImport = [{ domain: 'ai.onnx', version: 13 }])))).not.toThrow();
  });

  it('refuses an empty required first input or output, naming the node', () => {
    const input = refusal(() => checkGraphStructure(edited((graph) => (node(graph, 'pw').input![0] = ''))));
    expect([input.node, input.message]).toEqual(['pw', expect.stringMatching(/first input is empty, but Conv requires it/)]);
    const output = refusal(() => checkGraphStructure(edited((graph) => (node(graph, 'relu').output![0] = ''))));
    expect([output.node, output.message]).toEqual(['relu', expect.stringMatching(/first output is empty/)]);
  });

  it('refuses a conv attribute of the wrong type (FLOATS strides), and accepts untyped legacy attributes', () => {
    const floats = refusal(() =>
      checkGraphStructure(
        edited((graph) => {
          node(graph, 'dw').attribute!.push({ name: 'strides', type: AttributeType.FLOATS, floats: [1, 1] });
        }),
      ),
    );
    expect([floats.node, floats.message]).toEqual(['dw', expect.stringMatching(/attribute 'strides' is FLOATS, but Conv takes INTS/)]);
    expect(() => checkGraphStructure(edited((graph) => node(graph, 'dw').attribute!.push({ name: 'strides', ints: [1, 1] })))).not.toThrow();
  });

  it('refuses a repeated attribute, an attribute Conv does not have, an empty INTS, and a wrong input count', () => {
    const twice = refusal(() => checkGraphStructure(edited((graph) => node(graph, 'dw').attribute!.push({ ...node(graph, 'dw').attribute!.find((each) => each.name === 'pads')! }))));
    expect([twice.node, twice.message]).toEqual(['dw', expect.stringMatching(/attribute 'pads' appears more than once/)]);
    const axis = refusal(() => checkGraphStructure(edited((graph) => node(graph, 'pw').attribute!.push({ name: 'axis', type: AttributeType.INT, i: 1 }))));
    expect(axis.message).toMatch(/Conv has no attribute 'axis'/);
    const empty = refusal(() => checkGraphStructure(edited((graph) => node(graph, 'pw').attribute!.push({ name: 'strides', type: AttributeType.INTS, ints: [] }))));
    expect(empty.message).toMatch(/attribute 'strides' is INTS but holds no values/);
    const inputs = refusal(() => checkGraphStructure(edited((graph) => (node(graph, 'pw').input = [node(graph, 'pw').input![0]]))));
    expect(inputs.message).toMatch(/Conv takes 2 to 3 inputs, it has 1/);
  });
});
