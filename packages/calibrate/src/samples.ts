import { DeprunError, ShapeError, UsageError } from '@deprune/errors';
import type { HostTensor } from '@deprune/runtime';

/** One calibration input: an NCHW float32 batch and where it came from (named in errors). */
export interface CalibrationSample {
  tensor: HostTensor;
  source: string;
}

/** The calibration set's size when none is asked for: the default of 32 samples. */
export const DEFAULT_CALIBRATION_SAMPLES = 32;

/**
 * Checks calibration samples before any forward pass: at least one, each a 4-D float32 batch
 * whose data fills its shape, channels matching the model's declared input (when static) and
 * every value finite. Errors name the sample's source (a file, usually).
 */
export function checkSamples(samples: readonly CalibrationSample[], expectedChannels?: number): void {
  if (samples.length === 0) throw new UsageError('no calibration samples', { hint: 'pass a folder with images or an .npy batch' });
  for (const { tensor, source } of samples) {
    const { data, shape } = tensor;
    if (!(data instanceof Float32Array)) throw new DeprunError('BAD_DTYPE', 'calibration data must be float32', { file: source });
    if (shape.length !== 4 || shape.some((dim) => !Number.isInteger(dim) || dim <= 0) || shape.reduce((a, b) => a * b, 1) !== data.length) {
      throw new ShapeError(`calibration input must be an NCHW batch [N, C, H, W], got shape [${shape.join(', ')}]`, { file: source });
    }
    if (expectedChannels !== undefined && shape[1] !== expectedChannels) {
      throw new ShapeError(`calibration input has ${shape[1]} channels, the model expects ${expectedChannels}`, { file: source, hint: 'pass inputs preprocessed for this model (--preset)' });
    }
    for (let index = 0; index < data.length; index++) {
      if (!Number.isFinite(data[index])) throw new ShapeError(`calibration input has a non-finite value (${data[index]}) at index ${index}`, { file: source });
    }
  }
}
