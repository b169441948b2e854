import { ShapeError } from '@deprune/errors';
import { MAX_IMAGE_PIXELS } from './dimensions';

/** A decoded 8-bit RGB image, row-major, channels interleaved: `data[(y * width + x) * 3 + c]`. */
export interface RgbImage {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
}

export function rgbImage(width: number, height: number, data: Uint8Array): RgbImage {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new ShapeError(`an image needs a positive integer width and height, got ${width}x${height}`);
  }
  if (data.length !== width * height * 3) throw new ShapeError(`a ${width}x${height} RGB image has ${width * height * 3} bytes, got ${data.length}`);
  return { width, height, data };
}

/** RGBA (or grey / grey-alpha) pixels to RGB, compositing transparency over white (how a viewer shows it). */
export function fromChannels(width: number, height: number, pixels: ArrayLike<number>, channels: 1 | 2 | 3 | 4): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let pixel = 0; pixel < width * height; pixel++) {
    const at = pixel * channels;
    const grey = channels <= 2;
    const alpha = channels === 2 ? pixels[at + 1] / 255 : channels === 4 ? pixels[at + 3] / 255 : 1;
    for (let c = 0; c < 3; c++) {
      const value = pixels[at + (grey ? 0 : c)];
      data[pixel * 3 + c] = Math.round(value * alpha + 255 * (1 - alpha));
    }
  }
  return rgbImage(width, height, data);
}

/**
 * Bilinear resize with half-pixel centres, the sampling of OpenCV's INTER_LINEAR (what PaddleOCR
 * and most ImageNet pipelines preprocess with); results are rounded to 8 bits like cv2.resize.
 */
export function resizeBilinear(image: RgbImage, width: number, height: number): RgbImage {
  if (width === image.width && height === image.height) return image;
  // A preset scales by the aspect ratio, so a long thin image would ask for a huge output.
  if (width * height > MAX_IMAGE_PIXELS) {
    throw new ShapeError(`resizing a ${image.width}x${image.height} image to ${width}x${height} would exceed the limit of ${MAX_IMAGE_PIXELS} pixels`, {
      hint: 'crop the image closer to the aspect ratio the model expects',
    });
  }
  const out = new Uint8Array(width * height * 3);
  const scaleX = image.width / width;
  const scaleY = image.height / height;
  for (let y = 0; y < height; y++) {
    const sourceY = Math.min(Math.max((y + 0.5) * scaleY - 0.5, 0), image.height - 1);
    const top = Math.floor(sourceY);
    const bottom = Math.min(top + 1, image.height - 1);
    const dy = sourceY - top;
    for (let x = 0; x < width; x++) {
      const sourceX = Math.min(Math.max((x + 0.5) * scaleX - 0.5, 0), image.width - 1);
      const left = Math.floor(sourceX);
      const right = Math.min(left + 1, image.width - 1);
      const dx = sourceX - left;
      for (let c = 0; c < 3; c++) {
        const at = (row: number, column: number) => image.data[(row * image.width + column) * 3 + c];
        const upper = at(top, left) * (1 - dx) + at(top, right) * dx;
        const lower = at(bottom, left) * (1 - dx) + at(bottom, right) * dx;
        out[(y * width + x) * 3 + c] = Math.round(upper * (1 - dy) + lower * dy);
      }
    }
  }
  return { width, height, data: out };
}

/** The centred width x height window of an image. */
export function centerCrop(image: RgbImage, width: number, height: number): RgbImage {
  const left = Math.max(0, Math.floor((image.width - width) / 2));
  const top = Math.max(0, Math.floor((image.height - height) / 2));
  const w = Math.min(width, image.width);
  const h = Math.min(height, image.height);
  const out = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) out.set(image.data.subarray(((top + y) * image.width + left) * 3, ((top + y) * image.width + left + w) * 3), y * w * 3);
  return { width: w, height: h, data: out };
}

/** A copy rotated by 180 degrees (text-direction classifier data: upside-down lines). */
export function rotate180(image: RgbImage): RgbImage {
  const out = new Uint8Array(image.data.length);
  const pixels = image.width * image.height;
  for (let pixel = 0; pixel < pixels; pixel++) out.set(image.data.subarray(pixel * 3, pixel * 3 + 3), (pixels - 1 - pixel) * 3);
  return { width: image.width, height: image.height, data: out };
}
