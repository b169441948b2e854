import { DeprunError } from '@deprune/errors';
import { GraphBuilder, type Dim, type OnnxModel } from '@deprune/onnx';
import { createRng, randomTensor, tensor, type Rng } from '@deprune/tensor';
import {
  addMoments,
  batchNormMoments,
  constantMoments,
  convMoments,
  elementwiseMoments,
  hardSigmoid,
  hardSwish,
  poolMoments,
  relu,
  relu6,
  scaleMoments,
  sigmoid,
  silu,
  type Moments,
} from './moments';

/**
 * torchvision's `_make_divisible` (from the TF MobileNet repo): round `value` to the nearest
 * multiple of `divisor`, never below `minValue` (default `divisor`) and never more than 10%
 * below `value`.
 */
export function makeDivisible(value: number, divisor = 8, minValue?: number): number {
  const floor = minValue ?? divisor;
  let rounded = Math.max(floor, Math.floor((value + divisor / 2) / divisor) * divisor);
  if (rounded < 0.9 * value) rounded += divisor;
  return rounded;
}

/** Activations as torchvision names them; opset 13 has no HardSwish/SiLU op, so both are decomposed. */
export type Activation = 'none' | 'relu' | 'relu6' | 'hardswish' | 'silu';

/** Gate of a squeeze-excitation branch: torchvision's `nn.Hardsigmoid` (MobileNetV3) or `nn.Sigmoid` (EfficientNet). */
export type Gate = 'hardsigmoid' | 'sigmoid';

export interface ConvSpec {
  inChannels: number;
  outChannels: number;
  kernel: number;
  stride?: number;
  groups?: number;
  /** Conv bias; torchvision convs followed by BN have none, SE convs have one. */
  bias?: boolean;
}

/**
 * A value in the graph with its channel count (so blocks chain without bookkeeping) and its
 * predicted per-channel moments (so BN running statistics can match the signal).
 */
export interface Feature {
  readonly name: string;
  readonly channels: number;
  readonly moments: Moments;
}

export interface ZooGraphOptions {
  name: string;
  seed: number;
  /** BatchNormalization epsilon of the whole network. */
  epsilon: number;
  inputSize: number | 'dynamic';
  numClasses: number;
}

/**
 * A GraphBuilder that knows the zoo's conventions: torchvision module paths as node names,
 * `<module>.weight` / `.bias` / `.running_mean` / `.running_var` as initializer names (the
 * state_dict keys), and weights drawn from one seeded stream in build order, so one seed
 * always gives the same bytes.
 *
 * Weights keep activations O(1) through 50+ layers at inference: Kaiming-normal convs
 * (std = sqrt(2 / fan_in)), BN gamma ~ 1 + 0.1 N(0,1) kept positive, beta ~ 0.1 N(0,1), BN
 * running statistics calibrated to the signal (see `batchNorm` and moments.ts), Linear
 * weights N(0, 0.01^2) and zero biases. At inference BN uses its running statistics, so with
 * statistics drawn independently of the signal nothing would renormalise it.
 */
export class ZooGraph {
  readonly builder: GraphBuilder;
  readonly rng: Rng;
  private readonly epsilon: number;
  /** The scalar Clip bounds of ReLU6, shared by every Clip and created on first use. */
  private clipBoundsDefined = false;

  constructor(private readonly options: ZooGraphOptions) {
    this.builder = new GraphBuilder({ name: options.name, opset: 13, irVersion: 7, producerName: 'deprune-zoo' });
    this.rng = createRng(options.seed);
    this.epsilon = options.epsilon;
  }

  /** The image input `input` [N, 3, S, S] (or [N, 3, 'H', 'W'] when the size is dynamic). */
  input(): Feature {
    const size = this.options.inputSize;
    const dims: Dim[] = size === 'dynamic' ? ['N', 3, 'H', 'W'] : ['N', 3, size, size];
    // The moments of a normalised image: N(0, 1) per channel.
    return { name: this.builder.input('input', dims), channels: 3, moments: constantMoments(3, 0, 1) };
  }

  private normalWeight(name: string, shape: readonly number[], scale: number): Float32Array {
    const value = randomTensor(shape, this.rng, { dtype: 'float32', distribution: 'normal', scale });
    this.builder.weight(name, value);
    return value.data as Float32Array;
  }

  private constantWeight(name: string, shape: readonly number[], value: number): Float32Array {
    const size = shape.reduce((product, dim) => product * dim, 1);
    const data = new Float32Array(size).fill(value);
    this.builder.weight(name, tensor(data, shape));
    return data;
  }

  /** `nn.Conv2d` with symmetric `kernel // 2` padding, named `module`. */
  conv(module: string, x: Feature, spec: ConvSpec): Feature {
    const { inChannels, outChannels, kernel, stride = 1, groups = 1, bias = false } = spec;
    if (x.channels !== inChannels) {
      throw new DeprunError('INTERNAL', `zoo: '${module}' expects ${inChannels} input channels, got ${x.channels} (a bug in the architecture table)`);
    }
    const fanIn = (inChannels / groups) * kernel * kernel;
    const shape = [outChannels, inChannels / groups, kernel, kernel] as const;
    const weight = this.normalWeight(`${module}.weight`, shape, Math.sqrt(2 / fanIn));
    const biasValues = bias ? this.constantWeight(`${module}.bias`, [outChannels], 0) : undefined;
    const inputs = [x.name, `${module}.weight`, ...(bias ? [`${module}.bias`] : [])];
    const pad = Math.floor(kernel / 2);
    const name = this.builder.node(
      'Conv',
      inputs,
      { kernel_shape: [kernel, kernel], strides: [stride, stride], pads: [pad, pad, pad, pad], group: groups },
      { name: module },
    );
    return { name, channels: outChannels, moments: convMoments(x.moments, weight, shape, groups, biasValues) };
  }

  /**
   * `nn.BatchNorm2d` in inference form, named `module`. gamma ~ 1 + 0.1 N(0,1) (kept
   * positive) and beta ~ 0.1 N(0,1); the running statistics are the predicted moments of the
   * input with noise, mean_c + 0.1 N(0,1) sqrt(var_c) and var_c * U(0.5, 1.5), so the output
   * has mean ~0.1 and variance ~1 per channel, as in a trained network in eval mode.
   */
  batchNorm(module: string, x: Feature): Feature {
    const channels = x.channels;
    const { mean: inputMean, variance: inputVariance } = x.moments;
    const gamma = new Float32Array(channels);
    const beta = new Float32Array(channels);
    const mean = new Float32Array(channels);
    const variance = new Float32Array(channels);
    for (let c = 0; c < channels; c++) gamma[c] = Math.max(0.05, 1 + 0.1 * this.rng.normal());
    for (let c = 0; c < channels; c++) beta[c] = 0.1 * this.rng.normal();
    // A floor keeps a (practically impossible) dead channel from dividing by ~0.
    const spread = (c: number) => Math.max(inputVariance[c], 1e-4);
    for (let c = 0; c < channels; c++) mean[c] = inputMean[c] + 0.1 * this.rng.normal() * Math.sqrt(spread(c));
    for (let c = 0; c < channels; c++) variance[c] = spread(c) * (0.5 + this.rng.next());
    const b = this.builder;
    const name = b.node(
      'BatchNormalization',
      [
        x.name,
        b.weight(`${module}.weight`, tensor(gamma, [channels])),
        b.weight(`${module}.bias`, tensor(beta, [channels])),
        b.weight(`${module}.running_mean`, tensor(mean, [channels])),
        b.weight(`${module}.running_var`, tensor(variance, [channels])),
      ],
      { epsilon: this.epsilon },
      { name: module },
    );
    return { name, channels, moments: batchNormMoments(x.moments, gamma, beta, mean, variance, this.epsilon) };
  }

  /**
   * An activation module named `module`. ReLU6 is `Clip` with min/max inputs (opset 13);
   * HardSwish is `x * HardSigmoid(x)` and SiLU is `x * Sigmoid(x)` (opset 13 has neither op),
   * the gate named `<module>.hardsigmoid` / `<module>.sigmoid` and the Mul `<module>`.
   */
  activation(module: string, x: Feature, kind: Activation): Feature {
    const b = this.builder;
    const result = (name: string, f: (value: number) => number): Feature => ({
      name,
      channels: x.channels,
      moments: elementwiseMoments(x.moments, f),
    });
    switch (kind) {
      case 'none':
        return x;
      case 'relu':
        return result(b.node('Relu', [x.name], {}, { name: module }), relu);
      case 'relu6': {
        if (!this.clipBoundsDefined) {
          this.constantWeight('relu6.min', [], 0);
          this.constantWeight('relu6.max', [], 6);
          this.clipBoundsDefined = true;
        }
        return result(b.node('Clip', [x.name, 'relu6.min', 'relu6.max'], {}, { name: module }), relu6);
      }
      case 'hardswish': {
        const gate = this.gateNode(`${module}.hardsigmoid`, x.name, 'hardsigmoid');
        return result(b.node('Mul', [x.name, gate], {}, { name: module }), hardSwish);
      }
      case 'silu': {
        const gate = this.gateNode(`${module}.sigmoid`, x.name, 'sigmoid');
        return result(b.node('Mul', [x.name, gate], {}, { name: module }), silu);
      }
    }
  }

  /** torchvision's hardsigmoid is relu6(x + 3) / 6, i.e. ONNX HardSigmoid(alpha = 1/6, beta = 0.5). */
  private gateNode(module: string, input: string, kind: Gate): string {
    return kind === 'sigmoid'
      ? this.builder.node('Sigmoid', [input], {}, { name: module })
      : this.builder.node('HardSigmoid', [input], { alpha: 1 / 6, beta: 0.5 }, { name: module });
  }

  /** torchvision's `Conv2dNormActivation`: `<module>.0` conv, `<module>.1` BN, `<module>.2` activation. */
  convBnAct(module: string, x: Feature, spec: Omit<ConvSpec, 'inChannels' | 'bias'>, activation: Activation): Feature {
    const conv = this.conv(`${module}.0`, x, { ...spec, inChannels: x.channels });
    const normed = this.batchNorm(`${module}.1`, conv);
    return this.activation(`${module}.2`, normed, activation);
  }

  /**
   * torchvision's `SqueezeExcitation`: avgpool -> fc1 (1x1 conv, bias) -> activation -> fc2
   * (1x1 conv, bias) -> scale_activation, then `input * scale` (the Mul is `<module>.mul`).
   */
  squeezeExcitation(module: string, x: Feature, squeezeChannels: number, activation: Activation, gate: Gate): Feature {
    const b = this.builder;
    const pooled: Feature = {
      name: b.node('GlobalAveragePool', [x.name], {}, { name: `${module}.avgpool` }),
      channels: x.channels,
      moments: poolMoments(x.moments),
    };
    const fc1 = this.conv(`${module}.fc1`, pooled, { inChannels: x.channels, outChannels: squeezeChannels, kernel: 1, bias: true });
    const hidden = this.activation(`${module}.activation`, fc1, activation);
    const fc2 = this.conv(`${module}.fc2`, hidden, { inChannels: squeezeChannels, outChannels: x.channels, kernel: 1, bias: true });
    const scale = this.gateNode(`${module}.scale_activation`, fc2.name, gate);
    const scaleMomentsValue = elementwiseMoments(fc2.moments, gate === 'sigmoid' ? sigmoid : hardSigmoid);
    return {
      name: b.node('Mul', [x.name, scale], {}, { name: `${module}.mul` }),
      channels: x.channels,
      moments: scaleMoments(x.moments, scaleMomentsValue),
    };
  }

  /** The residual `result += input`, named `<module>.add`. */
  residual(module: string, result: Feature, input: Feature): Feature {
    return {
      name: this.builder.node('Add', [result.name, input.name], {}, { name: `${module}.add` }),
      channels: result.channels,
      moments: addMoments(result.moments, input.moments),
    };
  }

  /** `avgpool` (GlobalAveragePool) then `torch.flatten(x, 1)` (Flatten axis 1). */
  poolAndFlatten(x: Feature): Feature {
    const pooled = this.builder.node('GlobalAveragePool', [x.name], {}, { name: 'avgpool' });
    const name = this.builder.node('Flatten', [pooled], { axis: 1 }, { name: 'flatten' });
    return { name, channels: x.channels, moments: poolMoments(x.moments) };
  }

  /** `nn.Linear` as Gemm(transB = 1): weight [out, in] ~ N(0, 0.01^2), bias 0. */
  linear(module: string, x: Feature, outFeatures: number, outputName?: string): Feature {
    const weight = this.normalWeight(`${module}.weight`, [outFeatures, x.channels], 0.01);
    const bias = this.constantWeight(`${module}.bias`, [outFeatures], 0);
    const name = this.builder.node(
      'Gemm',
      [x.name, `${module}.weight`, `${module}.bias`],
      { alpha: 1, beta: 1, transB: 1 },
      { name: module, ...(outputName ? { outputs: [outputName] } : {}) },
    );
    return { name, channels: outFeatures, moments: convMoments(x.moments, weight, [outFeatures, x.channels, 1, 1], 1, bias) };
  }

  /** The classifier's last Linear, writing the graph output `logits` [N, numClasses]. */
  logits(module: string, x: Feature): void {
    const out = this.linear(module, x, this.options.numClasses, 'logits');
    this.builder.output(out.name, ['N', this.options.numClasses]);
  }

  build(): OnnxModel {
    return this.builder.build(`<zoo:${this.options.name}>`);
  }
}
