import { UsageError } from '@deprune/errors';

export interface ZooBuildOptions {
  /** Seed of the weight generator (default 0): the same seed gives byte-identical models. */
  seed?: number;
  /** Fold every BatchNormalization into the Conv before it (default false: BN kept, as in torchvision). */
  foldBatchNorm?: boolean;
  /** Classifier outputs (default 1000). */
  numClasses?: number;
  /** Square input side (default 224), or 'dynamic' to declare H and W as the dim_params 'H', 'W'. */
  inputSize?: number | 'dynamic';
}

export interface ResolvedOptions {
  seed: number;
  foldBatchNorm: boolean;
  numClasses: number;
  inputSize: number | 'dynamic';
}

export function resolveOptions(options: ZooBuildOptions = {}): ResolvedOptions {
  const { seed = 0, foldBatchNorm = false, numClasses = 1000, inputSize = 224 } = options;
  if (!Number.isSafeInteger(seed)) throw new UsageError(`zoo: seed must be a safe integer, got ${String(seed)}`);
  if (typeof foldBatchNorm !== 'boolean') throw new UsageError(`zoo: foldBatchNorm must be true or false, got ${String(foldBatchNorm)}`);
  if (!Number.isSafeInteger(numClasses) || numClasses < 1) {
    throw new UsageError(`zoo: numClasses must be a positive integer, got ${String(numClasses)}`);
  }
  if (inputSize !== 'dynamic' && (!Number.isSafeInteger(inputSize) || inputSize < 1)) {
    throw new UsageError(`zoo: inputSize must be a positive integer or 'dynamic', got ${String(inputSize)}`);
  }
  return { seed, foldBatchNorm, numClasses, inputSize };
}
