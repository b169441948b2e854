import { readFileSync } from 'node:fs';
import { DeprunError } from '@deprune/errors';
import { PNG } from 'pngjs';
import jpeg from 'jpeg-js';
import { checkPixelBudget, imageDimensions, MAX_IMAGE_PIXELS } from './dimensions';
import { fromChannels, type RgbImage } from './image';

/**
 * The Node file edge: PNG through pngjs and JPEG through jpeg-js (pure JavaScript decoders from
 * npm, no native code), recognised by their magic bytes rather than the file name.
 */

const PNG_MAGIC = [0x89, 0x50, 0x4e, 0x47];
const JPEG_MAGIC = [0xff, 0xd8, 0xff];

function startsWith(bytes: Uint8Array, magic: readonly number[]): boolean {
  return magic.every((byte, index) => bytes[index] === byte);
}

/**
 * Decodes PNG or JPEG bytes; anything else, or a broken file, is a FILE_UNREADABLE DeprunError naming `file`.
 * An image whose header claims more than MAX_IMAGE_PIXELS is refused before any decoding.
 */
export function decodeImage(bytes: Uint8Array, file = '<bytes>'): RgbImage {
  const dimensions = imageDimensions(bytes);
  if (dimensions !== undefined) checkPixelBudget(dimensions, file);
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  try {
    if (startsWith(bytes, PNG_MAGIC)) {
      const png = PNG.sync.read(buffer);
      return fromChannels(png.width, png.height, png.data, 4);
    }
    if (startsWith(bytes, JPEG_MAGIC)) {
      const decoded = jpeg.decode(buffer, { useTArray: true, formatAsRGBA: true, maxMemoryUsageInMB: 1024, maxResolutionInMP: MAX_IMAGE_PIXELS / 1e6 });
      return fromChannels(decoded.width, decoded.height, decoded.data, 4);
    }
  } catch (cause) {
    throw new DeprunError('FILE_UNREADABLE', `cannot decode the image: ${(cause as Error).message}`, { file, hint: 'the file is truncated or corrupt; save it again as PNG or JPEG', cause });
  }
  throw new DeprunError('FILE_UNREADABLE', 'not a PNG or JPEG image', { file, hint: 'convert it to PNG or JPEG' });
}

/** Reads and decodes an image file. */
export function readImage(path: string): RgbImage {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    throw new DeprunError(code === 'ENOENT' ? 'FILE_NOT_FOUND' : 'FILE_UNREADABLE', code === 'ENOENT' ? 'no such image file' : `cannot read the image: ${(cause as Error).message}`, { file: path, cause });
  }
  return decodeImage(bytes, path);
}
