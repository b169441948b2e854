import { UsageError, closestName } from '@deprune/errors';
import { tensor, type Tensor } from '@deprune/tensor';
import { centerCrop, resizeBilinear, type RgbImage } from './image';

/**
 * How each model family expects its input, written down once. The PP-OCR presets follow
 * PaddleOCR's own inference code (tools/infer/predict_det.py, predict_rec.py, predict_cls.py):
 * images are BGR there (OpenCV), so the channel order is BGR too.
 */
export const PRESET_NAMES = ['imagenet', 'ppocr-det', 'ppocr-rec', 'ppocr-cls'] as const;
export type PresetName = (typeof PRESET_NAMES)[number];

export interface PresetOptions {
  /** ppocr-det: the longest side is scaled down to at most this (PaddleOCR's det_limit_side_len, 960). */
  maxSide?: number;
  /** imagenet: the square crop side (224). */
  cropSize?: number;
}

export interface PreparedInput {
  /** [1, 3, H, W] float32. */
  tensor: Tensor<Float32Array>;
  preset: PresetName;
  /** The region of the tensor the image fills (rec and cls pad on the right). */
  content: { width: number; height: number };
  description: string;
}

/** Float32 NCHW from RGB bytes: (value / 255 - mean[c]) / std[c], in `order`, padded on the right with `pad`. */
function toTensor(image: RgbImage, width: number, mean: readonly number[], std: readonly number[], order: 'rgb' | 'bgr', pad: number): Tensor<Float32Array> {
  const { height } = image;
  const data = new Float32Array(3 * height * width).fill(pad);
  for (let channel = 0; channel < 3; channel++) {
    const source = order === 'rgb' ? channel : 2 - channel;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < image.width; x++) {
        data[(channel * height + y) * width + x] = (image.data[(y * image.width + x) * 3 + source] / 255 - mean[channel]) / std[channel];
      }
    }
  }
  return tensor(data, [1, 3, height, width]);
}

const IMAGENET_MEAN = [0.485, 0.456, 0.406];
const IMAGENET_STD = [0.229, 0.224, 0.225];
const HALF = [0.5, 0.5, 0.5];

/** PaddleOCR's resize_norm_img: height 48, width from the aspect ratio (at most `maxWidth`), padded to `padTo`. */
function textLine(image: RgbImage, padTo: number, maxWidth: number, preset: PresetName): PreparedInput {
  const height = 48;
  const width = Math.max(1, Math.min(maxWidth, Math.ceil((height * image.width) / image.height)));
  const resized = resizeBilinear(image, width, height);
  return {
    tensor: toTensor(resized, padTo, HALF, HALF, 'bgr', 0),
    preset,
    content: { width, height },
    description: `${image.width}x${image.height} -> ${width}x${height}, padded to ${padTo} wide, BGR, (x / 255 - 0.5) / 0.5`,
  };
}

export function preprocessImage(image: RgbImage, preset: PresetName, options: PresetOptions = {}): PreparedInput {
  switch (preset) {
    case 'imagenet': {
      const crop = options.cropSize ?? 224;
      const shorter = Math.round((crop * 256) / 224);
      const scale = shorter / Math.min(image.width, image.height);
      const resized = resizeBilinear(image, Math.max(crop, Math.round(image.width * scale)), Math.max(crop, Math.round(image.height * scale)));
      const cropped = centerCrop(resized, crop, crop);
      return {
        tensor: toTensor(cropped, crop, IMAGENET_MEAN, IMAGENET_STD, 'rgb', 0),
        preset,
        content: { width: crop, height: crop },
        description: `${image.width}x${image.height} -> shorter side ${shorter}, centre crop ${crop}, RGB, ImageNet mean/std`,
      };
    }
    case 'ppocr-det': {
      const limit = options.maxSide ?? 960;
      const ratio = Math.max(image.width, image.height) > limit ? limit / Math.max(image.width, image.height) : 1;
      const roundTo32 = (side: number) => Math.max(32, Math.round((side * ratio) / 32) * 32);
      const width = roundTo32(image.width);
      const height = roundTo32(image.height);
      return {
        tensor: toTensor(resizeBilinear(image, width, height), width, IMAGENET_MEAN, IMAGENET_STD, 'bgr', 0),
        preset,
        content: { width, height },
        description: `${image.width}x${image.height} -> ${width}x${height} (sides multiples of 32, longest <= ${limit}), BGR, ImageNet mean/std`,
      };
    }
    case 'ppocr-rec': {
      // predict_rec.py: the batch width is at least 320 and grows with the widest line's aspect ratio.
      const width = Math.max(320, Math.ceil((48 * image.width) / image.height));
      return textLine(image, width, width, preset);
    }
    case 'ppocr-cls':
      return textLine(image, 192, 192, preset);
    default: {
      const guess = closestName(String(preset), PRESET_NAMES);
      throw new UsageError(`unknown preset '${String(preset)}'`, { hint: `${guess ? `did you mean '${guess}'? ` : ''}choose one of ${PRESET_NAMES.join(', ')}` });
    }
  }
}
