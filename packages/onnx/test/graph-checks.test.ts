import { describe, expect, it } from 'vitest';
import { InvalidGraphError } from '@deprune/errors';
import { AttributeType, checkConvGroups, checkGraphStructure, DataLocation, DataType, encodeModel, GraphBuilder, inferShapes, MAX_IR_VERSION, MAX_OPSET, parseModel, type GraphProto, type OnnxModel, type TensorProto } from '../src/index';
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
  return parseModel(encodeModel(proto), { source: 'broken.onnx' });
}

/** The valid model with its ModelProto edited afterwards (IR version, opset imports). */
function editedModel(edit: (proto: ReturnType<GraphBuilder['toProto']>) => void): OnnxModel {
  const proto = dsconvBuilder().toProto();
  edit(proto);
  return parseModel(encodeModel(proto), { source: 'broken.onnx' });
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

  it('refuses an IR version before opset imports or newer than any known, and a node domain without an opset import', () => {
    expect(refusal(() => checkGraphStructure(editedModel((proto) => (proto.irVersion = 2)))).message).toMatch(/ir_version 2 predates opset imports/);
    expect(refusal(() => checkGraphStructure(editedModel((proto) => (proto.irVersion = 99)))).message).toMatch(new RegExp(`ir_version 99 is newer than ONNX IR ${MAX_IR_VERSION}`));
    expect(() => checkGraphStructure(editedModel((proto) => (proto.irVersion = MAX_IR_VERSION)))).not.toThrow();
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
    expect([input.node, input.message]).toEqual(['pw', expect.stringMatching(/its input 0 is empty \(''\), but Conv requires it/)]);
    const output = refusal(() => checkGraphStructure(edited((graph) => (node(graph, 'relu').output![0] = ''))));
    expect([output.node, output.message]).toEqual(['relu', expect.stringMatching(/its output 0 is empty \(''\), but Relu requires it/)]);
  });

  it('refuses a conv attribute of the wrong type (FLOATS strides) or with no type (the checker requires one from IR 2)', () => {
    const floats = refusal(() =>
      checkGraphStructure(
        edited((graph) => {
          node(graph, 'dw').attribute!.push({ name: 'strides', type: AttributeType.FLOATS, floats: [1, 1] });
        }),
      ),
    );
    expect([floats.node, floats.message]).toEqual(['dw', expect.stringMatching(/attribute 'strides' is FLOATS, but Conv takes INTS/)]);
    const untyped = refusal(() => checkGraphStructure(edited((graph) => node(graph, 'dw').attribute!.push({ name: 'strides', ints: [1, 1] }))));
    expect(untyped.message).toMatch(/attribute 'strides' has no type/);
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

describe('the ONNX checker rules found in the second checker study: op schemas, opset imports, attributes, tensors, values', () => {
  const message = (model: () => OnnxModel) => refusal(() => checkGraphStructure(model())).message;
  /** x[1,4,8,8] -> one node -> y, at `opset`: the schema cases need a node of a given op. */
  function single(opType: string, options: { opset?: number; inputs?: string[]; outputs?: string[]; attributes?: Record<string, number | number[] | string>; domain?: string } = {}): OnnxModel {
    const b = new GraphBuilder({ name: 'single', opset: options.opset ?? 13 });
    b.input('x', [1, 4, 8, 8]);
    b.node(opType, options.inputs ?? ['x'], options.attributes ?? {}, { name: 'n', outputs: options.outputs ?? ['y'], domain: options.domain });
    b.output('y');
    const proto = b.toProto();
    if (options.domain) proto.opsetImport!.push({ domain: options.domain, version: 1 });
    return parseModel(encodeModel(proto), { source: 'single.onnx' });
  }

  it('checks each default-domain node against its operator schema at the model opset', () => {
    expect(() => checkGraphStructure(single('Relu'))).not.toThrow();
    expect(message(() => single('Foo'))).toMatch(/node 'n': 'Foo' is not an ONNX operator/);
    // The same op in a domain of its own is not checked against ONNX's schemas.
    expect(() => checkGraphStructure(single('Foo', { domain: 'com.example' }))).not.toThrow();
    expect(message(() => single('Einsum', { opset: 9, attributes: { equation: 'i->i' } }))).toMatch(/Einsum does not exist at opset 9; ONNX added it at opset 12/);
    expect(message(() => single('Upsample', { opset: 13, inputs: ['x', 'x'] }))).toMatch(/Upsample is deprecated at opset 13 \(since opset 10\)/);
    expect(message(() => single('Relu', { inputs: ['x', 'x'] }))).toMatch(/Relu takes 1 input, it has 2/);
    expect(message(() => single('Relu', { outputs: ['y', 'z'] }))).toMatch(/Relu takes 1 output, it has 2/);
    expect(message(() => single('Concat', { inputs: [], attributes: { axis: 1 } }))).toMatch(/Concat takes 1 or more inputs, it has 0/);
    expect(message(() => single('Einsum', { inputs: ['x'] }))).toMatch(/Einsum requires attribute 'equation' \(opset 13\)/);
    expect(message(() => single('Relu', { attributes: { alpha: { float: 1 } } as never }))).toMatch(/Relu has no attribute 'alpha'/);
    // Names starting with two underscores are implementation details the checker ignores.
    expect(() => checkGraphStructure(single('Relu', { attributes: { __note: 1 } }))).not.toThrow();
    expect(message(() => single('Flatten', { attributes: { axis: [1, 2] } }))).toMatch(/attribute 'axis' is INTS, but Flatten takes INT/);
  });

  it('knows each version of an op: Clip bounds are attributes before opset 11 and inputs after, BatchNormalization needs consumed_inputs before 6', () => {
    expect(() => checkGraphStructure(single('Clip', { opset: 9, attributes: { min: { float: 0 }, max: { float: 6 } } as never }))).not.toThrow();
    expect(message(() => single('Clip', { opset: 11, attributes: { min: { float: 0 } } as never }))).toMatch(/Clip has no attribute 'min'/);
    const bn = (opset: number) => {
      const b = new GraphBuilder({ name: 'bn', opset });
      b.input('x', [1, 4, 8, 8]);
      const params = ['scale', 'bias', 'mean', 'var'].map((name) => b.weight(name, randn([4], 1)));
      b.output(b.node('BatchNormalization', ['x', ...params], {}, { name: 'bn', outputs: ['y'] }));
      return b.build('bn.onnx');
    };
    expect(() => checkGraphStructure(bn(9))).not.toThrow();
    expect(message(() => bn(5))).toMatch(/node 'bn': BatchNormalization requires attribute 'consumed_inputs' \(opset 5\)/);
  });

  it('refuses an empty name where the schema has a single (required) parameter, and accepts one for an optional parameter', () => {
    expect(message(() => edited((graph) => (node(graph, 'pw').input![1] = '')))).toMatch(/its input 1 is empty \(''\), but Conv requires it/);
    expect(() => checkGraphStructure(edited((graph) => node(graph, 'pw').input!.push('')))).not.toThrow();
  });

  it('lets the removed experimental ops through without a schema, as the checker does', () => {
    expect(() => checkGraphStructure(single('ImageScaler', { opset: 9, attributes: { scale: { float: 1 } } as never }))).not.toThrow();
  });

  it('checks the nodes inside subgraphs too', () => {
    const model = edited((graph) => {
      const body: GraphProto = { name: 'then', node: [{ name: 'inner', opType: 'Relu', input: ['x'], output: ['t'], attribute: [{ name: 'foo', type: AttributeType.INT, i: 1 }] }], output: [{ name: 't' }] };
      graph.node!.push({ name: 'branch', opType: 'If', input: ['y'], output: ['z'], attribute: [{ name: 'then_branch', type: AttributeType.GRAPH, g: body }, { name: 'else_branch', type: AttributeType.GRAPH, g: body }] });
    });
    const error = refusal(() => checkGraphStructure(model));
    expect([error.node, error.message]).toEqual(['inner', expect.stringMatching(/Relu has no attribute 'foo'/)]);
  });

  it('refuses opset imports out of range or ambiguous', () => {
    const opsets = (opsetImport: { domain: string; version: number }[]) => editedModel((proto) => (proto.opsetImport = opsetImport));
    expect(message(() => opsets([{ domain: '', version: 0 }]))).toMatch(/opset_import for domain 'ai.onnx' has version 0/);
    expect(message(() => opsets([{ domain: '', version: 2 ** 31 }]))).toMatch(/has version 2147483648/);
    expect(message(() => opsets([{ domain: 'ai.onnx', version: MAX_OPSET + 1 }]))).toMatch(new RegExp(`ONNX opset ${MAX_OPSET + 1}, newer than opset ${MAX_OPSET}, the newest known`));
    expect(message(() => opsets([{ domain: '', version: 13 }, { domain: 'ai.onnx', version: 11 }]))).toMatch(/names domain 'ai.onnx' twice, at versions 13 and 11/);
    expect(() => checkGraphStructure(opsets([{ domain: '', version: 13 }, { domain: 'ai.onnx', version: 13 }]))).not.toThrow();
    expect(() => checkGraphStructure(opsets([{ domain: '', version: MAX_OPSET }]))).not.toThrow();
  });

  it('refuses attributes without a name or a type, or whose value is not in the field of their type', () => {
    const push = (attribute: object) => edited((graph) => node(graph, 'relu').attribute!.push(attribute));
    expect(message(() => push({ type: AttributeType.INT, i: 1 }))).toMatch(/node 'relu': an attribute has no name/);
    expect(message(() => push({ name: '__a', i: 1 }))).toMatch(/attribute '__a' has no type/);
    expect(message(() => push({ name: '__a', type: AttributeType.INT, floats: [1] }))).toMatch(/attribute '__a' is INT but holds a FLOATS value/);
    expect(message(() => push({ name: '__a', type: AttributeType.INTS, i: 2, ints: [1] }))).toMatch(/attribute '__a' holds more than one value \(i, ints\)/);
    expect(message(() => push({ name: '__a', type: AttributeType.TENSOR }))).toMatch(/attribute '__a' is TENSOR but holds no values/);
    // A FLOAT, INT or STRING may be left at its default (proto3 writes no 0).
    expect(() => checkGraphStructure(push({ name: '__a', type: AttributeType.INT }))).not.toThrow();
  });

  it('refuses tensors of no or an unknown type, with values in the wrong field or more than one, or not as many as their shape needs', () => {
    const initializer = (edit: (tensor: TensorProto) => void) =>
      edited((graph) => {
        const tensor = { name: 'extra', dims: [2], dataType: DataType.FLOAT, floatData: [1, 2] };
        edit(tensor);
        graph.initializer!.push(tensor);
      });
    expect(() => checkGraphStructure(initializer(() => undefined))).not.toThrow();
    expect(message(() => initializer((t) => (t.dataType = DataType.UNDEFINED)))).toMatch(/tensor 'extra' has no data_type \(UNDEFINED\)/);
    expect(message(() => initializer((t) => (t.dataType = 99)))).toMatch(/tensor 'extra' has data_type 99, which is not an ONNX type/);
    expect(message(() => initializer((t) => ((t.dataType = DataType.STRING), (t.floatData = []), (t.rawData = new Uint8Array(2)))))).toMatch(/holds strings in raw_data, where ONNX keeps them in string_data/);
    expect(message(() => initializer((t) => (t.rawData = new Uint8Array(8))))).toMatch(/holds values in both float_data and raw_data/);
    expect(message(() => initializer((t) => ((t.floatData = []), (t.int32Data = [1, 2]))))).toMatch(/holds float32 values in int32_data, where ONNX keeps them in float_data/);
    expect(message(() => initializer((t) => ((t.floatData = []), (t.rawData = new Uint8Array(12)))))).toMatch(/tensor 'extra' has 12 bytes of data but its shape \[2\] of float32 needs 8/);
    expect(message(() => initializer((t) => (t.floatData = [1, 2, 3])))).toMatch(/tensor 'extra' has 3 values but its shape \[2\] of float32 needs 2/);
    expect(message(() => initializer((t) => (t.floatData = [])))).toMatch(/tensor 'extra' holds no values, but its shape \[2\] needs 2/);
    expect(message(() => initializer((t) => (t.dims = [-2])))).toMatch(/tensor 'extra' has dimension -2 in its shape \[-2\]/);
    expect(message(() => initializer((t) => (t.dims = [0])))).toMatch(/tensor 'extra' has no elements \(shape \[0\]\) but holds values/);
    expect(() => checkGraphStructure(initializer((t) => ((t.dims = [0]), (t.floatData = []))))).not.toThrow();
    expect(message(() => initializer((t) => ((t.dataLocation = DataLocation.EXTERNAL), (t.externalData = [{ key: 'location', value: 'w.bin' }]))))).toMatch(/stored externally but also holds float_data/);
    expect(message(() => initializer((t) => ((t.floatData = []), (t.dataLocation = DataLocation.EXTERNAL))))).toMatch(/stored externally but names no location/);
    // Packed 4-bit values: 5 elements in 3 bytes of raw_data.
    expect(() => checkGraphStructure(initializer((t) => ((t.dataType = 22 /* INT4, newer than the bindings */), (t.dims = [5]), (t.floatData = []), (t.rawData = new Uint8Array(3)))))).not.toThrow();
  });

  it('checks tensors held by attributes (a Constant), naming the node', () => {
    const model = edited((graph) => {
      const value = { name: 'c', dims: [3], dataType: DataType.FLOAT, rawData: new Uint8Array(8) };
      graph.node!.push({ name: 'const', opType: 'Constant', input: [], output: ['c'], attribute: [{ name: 'value', type: AttributeType.TENSOR, t: value }] });
    });
    const error = refusal(() => checkGraphStructure(model));
    expect([error.node, error.message]).toEqual(['const', expect.stringMatching(/attribute 'value': tensor 'c' has 8 bytes of data but its shape \[3\] of float32 needs 12/)]);
  });

  it('refuses an unnamed graph, graph inputs and outputs without a name or element type, and inputs listed twice', () => {
    expect(message(() => edited((graph) => (graph.name = '')))).toMatch(/the graph has no name/);
    expect(message(() => edited((graph) => (graph.input![0].name = '')))).toMatch(/a graph input has no name/);
    expect(message(() => edited((graph) => delete graph.input![0].type))).toMatch(/graph input 'x' has no type/);
    expect(message(() => edited((graph) => (graph.output![0].type = { tensorType: { elemType: 0 } })))).toMatch(/graph output 'y' has no element type/);
    expect(message(() => edited((graph) => graph.input!.push({ ...graph.input![0] })))).toMatch(/graph input 'x' is listed twice/);
    // No shape (unknown rank) is allowed: see docs/reliability.md.
    expect(() => checkGraphStructure(edited((graph) => (graph.output![0].type = { tensorType: { elemType: 1 } })))).not.toThrow();
  });

  it('refuses initializers unnamed or named twice, and at IR 3 one that is not a graph input', () => {
    expect(message(() => edited((graph) => graph.initializer!.push({ ...graph.initializer![0] })))).toMatch(/initializer 'dw.w' is defined twice/);
    expect(message(() => edited((graph) => (graph.initializer![0].name = '')))).toMatch(/an initializer has no name/);
    expect(message(() => editedModel((proto) => (proto.irVersion = 3)))).toMatch(/initializer 'dw.w' is not a graph input, which ir_version 3 requires/);
    const listed = editedModel((proto) => {
      proto.irVersion = 3;
      for (const tensor of proto.graph!.initializer!) proto.graph!.input!.push({ name: tensor.name, type: { tensorType: { elemType: 1, shape: { dim: tensor.dims!.map((dim) => ({ dimValue: dim })) } } } });
    });
    expect(() => checkGraphStructure(listed)).not.toThrow();
  });

  it('refuses metadata keys given twice and a node with neither inputs nor outputs', () => {
    expect(message(() => editedModel((proto) => (proto.metadataProps = [{ key: 'a', value: '1' }, { key: 'a', value: '2' }])))).toMatch(/metadata_props has the key 'a' twice/);
    expect(message(() => edited((graph) => graph.node!.push({ name: 'lonely', opType: 'Relu' })))).toMatch(/node 'lonely': it has no inputs and no outputs/);
  });
});

describe('the tables generated from the onnx package', () => {
  it('parse: every schema line names known attribute types, and every data type up to the newest has its storage', async () => {
    const { OP_SCHEMAS, NEWEST_DATA_TYPE, NEWEST_OPSET } = await import('../src/op-schemas');
    const { DATA_TYPES } = await import('../src/proto');
    expect(MAX_OPSET).toBe(NEWEST_OPSET);
    for (const [op, lines] of Object.entries(OP_SCHEMAS)) {
      for (const line of lines) {
        const [since, inputs, outputs, ...attributes] = line.split(' ');
        expect(Number.isInteger(Number(since)), `${op}: ${line}`).toBe(true);
        if (inputs === 'deprecated') continue;
        for (const parameters of [inputs, outputs]) expect(parameters, `${op}: ${line}`).toMatch(/^(-|[so]*(v\d+)?)$/);
        for (const attribute of attributes) expect(AttributeType[attribute.split(':')[1].replace('!', '') as 'INT'], `${op}: ${attribute}`).toBeGreaterThan(0);
      }
    }
    for (let type = 1; type <= NEWEST_DATA_TYPE; type++) expect(DATA_TYPES[type], `data type ${type}`).toBeDefined();
  });
});
