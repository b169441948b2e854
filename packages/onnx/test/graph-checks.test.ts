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
