import { UsageError } from '@deprune/errors';
import type { Tensor } from '@deprune/tensor';
import { makeAttribute, type AttributeValue } from './attributes';
import { parseModel, type OnnxModel } from './model';
import { DataType, encodeModel, type ModelProto, type NodeProto, type TensorProto, type ValueInfoProto } from './proto';
import { encodeFloatTensor, encodeInt64Tensor } from './tensor-proto';

/** A dimension: a number, or a name for a dynamic one ('N', 'H'). */
export type Dim = number | string;

export interface GraphBuilderOptions {
  name?: string;
  /** Default-domain opset (13 unless told). */
  opset?: number;
  irVersion?: number;
  producerName?: string;
}

function valueInfo(name: string, dims: readonly Dim[] | undefined, elemType: number = DataType.FLOAT): ValueInfoProto {
  const shape = dims && {
    dim: dims.map((dim) => (typeof dim === 'number' ? { dimValue: dim } : { dimParam: dim })),
  };
  return { name, type: { tensorType: { elemType, ...(shape ? { shape } : {}) } } };
}

/**
 * Builds ONNX graphs in code: the model zoo and every test that needs a model use it.
 *
 *   const b = new GraphBuilder({ name: 'tiny' });
 *   const x = b.input('x', ['N', 3, 8, 8]);
 *   const y = b.node('Conv', [x, b.weight('w', w)], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] });
 *   b.output(y);
 *   const model = b.build();
 *
 * Node and value names are unique; a duplicate is a mistake in the caller and throws.
 */
export class GraphBuilder {
  private readonly nodes: NodeProto[] = [];
  private readonly initializers: TensorProto[] = [];
  private readonly inputs: ValueInfoProto[] = [];
  private readonly outputs: ValueInfoProto[] = [];
  private readonly names = new Set<string>();
  private readonly nodeNames = new Set<string>();
  private counter = 0;

  constructor(private readonly options: GraphBuilderOptions = {}) {}

  private claim(name: string): string {
    if (this.names.has(name)) throw new UsageError(`GraphBuilder: value '${name}' defined twice`);
    this.names.add(name);
    return name;
  }

  /** A fresh value name with the given prefix. */
  fresh(prefix: string): string {
    let name: string;
    do name = `${prefix}_${this.counter++}`;
    while (this.names.has(name));
    return name;
  }

  input(name: string, dims: readonly Dim[], elemType: number = DataType.FLOAT): string {
    this.inputs.push(valueInfo(this.claim(name), dims, elemType));
    return name;
  }

  /** A float32 initializer (stored as raw_data). */
  weight(name: string, value: Tensor): string {
    this.initializers.push(encodeFloatTensor(this.claim(name), value.data, value.shape));
    return name;
  }

  /** An int64 initializer (Reshape shapes, axes). */
  int64(name: string, values: readonly number[], dims?: readonly number[]): string {
    this.initializers.push(encodeInt64Tensor(this.claim(name), values, dims));
    return name;
  }

  /**
   * Adds a node and returns its first output's name. `outputs` defaults to one fresh
   * name derived from the node name; pass names to get several outputs (read them from
   * the returned list with `nodeOutputs`).
   */
  node(
    opType: string,
    inputs: readonly string[],
    attributes: Record<string, AttributeValue> = {},
    options: { name?: string; outputs?: readonly string[]; domain?: string } = {},
  ): string {
    return this.nodeOutputs(opType, inputs, attributes, options)[0];
  }

  nodeOutputs(
    opType: string,
    inputs: readonly string[],
    attributes: Record<string, AttributeValue> = {},
    options: { name?: string; outputs?: readonly string[]; domain?: string } = {},
  ): string[] {
    const name = options.name ?? this.fresh(opType.toLowerCase());
    if (this.nodeNames.has(name)) throw new UsageError(`GraphBuilder: node '${name}' defined twice`);
    this.nodeNames.add(name);
    for (const input of inputs) {
      if (input !== '' && !this.names.has(input)) {
        throw new UsageError(`GraphBuilder: node '${name}' reads '${input}', which is not defined yet`);
      }
    }
    const outputs = (options.outputs ?? [`${name}_out`]).map((output) => this.claim(output));
    this.nodes.push({
      name,
      opType,
      domain: options.domain ?? '',
      input: [...inputs],
      output: outputs,
      attribute: Object.entries(attributes).map(([key, value]) => makeAttribute(key, value)),
    });
    return outputs;
  }

  output(name: string, dims?: readonly Dim[]): void {
    if (!this.names.has(name)) throw new UsageError(`GraphBuilder: output '${name}' is not defined`);
    this.outputs.push(valueInfo(name, dims));
  }

  toProto(): ModelProto {
    return {
      irVersion: this.options.irVersion ?? 7,
      producerName: this.options.producerName ?? 'deprune',
      opsetImport: [{ domain: '', version: this.options.opset ?? 13 }],
      graph: {
        name: this.options.name ?? 'graph',
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs,
        output: this.outputs,
      },
    };
  }

  toBytes(): Uint8Array {
    return encodeModel(this.toProto());
  }

  /** The finished model, decoded and validated like any loaded file. */
  build(source = `<${this.options.name ?? 'graph'}>`): OnnxModel {
    return parseModel(this.toBytes(), { source });
  }
}
