import { UnsupportedError } from '@deprune/errors';

/**
 * The most pixels an image may have. Decoding costs about 15 bytes a pixel at its peak (pngjs
 * keeps the inflated rows, up to 8 bytes a pixel for 16-bit RGBA, and its 4-byte RGBA output;
 * then the 3-byte RGB copy), so 2^25 pixels (33.5 MP: an 8K frame, a 40-megapixel photo at
 * most) stay near 500 MB. PNG and JPEG compress flat areas so well that a file of a few hundred
 * KB can claim billions of pixels; without this budget such a file takes gigabytes or aborts
 * Node. The model presets scale every image down to at most ~1000 pixels a side anyway.
 */
export const MAX_IMAGE_PIXELS = 2 ** 25;

export interface ImageDimensions {
  format: 'png' | 'jpeg';
  width: number;
  height: number;
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

function uint16(bytes: Uint8Array, at: number): number {
  return (bytes[at] << 8) | bytes[at + 1];
}

function uint32(bytes: Uint8Array, at: number): number {
  return ((bytes[at] << 24) >>> 0) + (bytes[at + 1] << 16) + (bytes[at + 2] << 8) + bytes[at + 3];
}

/** PNG: the first chunk must be IHDR (width, height as big-endian uint32 at bytes 16 and 20). */
function pngDimensions(bytes: Uint8Array): ImageDimensions | undefined {
  if (bytes.length < 24 || !PNG_SIGNATURE.every((byte, index) => bytes[index] === byte)) return undefined;
  const isIhdr = bytes[12] === 0x49 && bytes[13] === 0x48 && bytes[14] === 0x44 && bytes[15] === 0x52;
  return isIhdr ? { format: 'png', width: uint32(bytes, 16), height: uint32(bytes, 20) } : undefined;
}

/** Start-of-frame markers (SOF0..SOF15) carry the size; C4 (DHT), C8 (JPG) and CC (DAC) are not frames. */
function isStartOfFrame(marker: number): boolean {
  return marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
}

/** JPEG: walks the marker segments up to the first start-of-frame (height, width as uint16). */
function jpegDimensions(bytes: Uint8Array): ImageDimensions | undefined {
  if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== 0xd8) return undefined;
  let at = 2;
  while (at + 4 <= bytes.length) {
    if (bytes[at] !== 0xff) return undefined;
    const marker = bytes[at + 1];
    if (marker === 0xff) {
      at += 1; // fill byte
      continue;
    }
    // Markers without a length: TEM and the restart markers RST0..RST7.
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      at += 2;
      continue;
    }
    if (marker === 0xd9 || marker === 0xda) return undefined; // end of image, or scan data before any frame
    const length = uint16(bytes, at + 2);
    if (isStartOfFrame(marker)) {
      if (at + 9 > bytes.length) return undefined;
      return { format: 'jpeg', height: uint16(bytes, at + 5), width: uint16(bytes, at + 7) };
    }
    at += 2 + length;
  }
  return undefined;
}

/**
 * Width and height from a PNG or JPEG header, without decoding anything; undefined when the
 * bytes are neither or the header is cut short (the decoder then reports the file as broken).
 */
export function imageDimensions(bytes: Uint8Array): ImageDimensions | undefined {
  return pngDimensions(bytes) ?? jpegDimensions(bytes);
}

/** Refuses an image whose header claims more than MAX_IMAGE_PIXELS, before it is decoded. */
export function checkPixelBudget(dimensions: ImageDimensions, file: string): void {
  if (dimensions.width * dimensions.height <= MAX_IMAGE_PIXELS) return;
  // BigInt: 2^31 x 2^31 is past 2^53, where a float product would print rounded.
  const pixels = BigInt(dimensions.width) * BigInt(dimensions.height);
  const count = (value: number | bigint) => value.toLocaleString('en-US');
  throw new UnsupportedError(
    `the ${dimensions.format.toUpperCase()} image is ${dimensions.width}x${dimensions.height} = ${count(pixels)} pixels, over the limit of ${count(MAX_IMAGE_PIXELS)} pixels`,
    { file, hint: 'scale it down first: the model presets shrink every image to about 1000 pixels a side anyway' },
  );
}
