import { describe, expect, it } from 'vitest';
import { DeprunError, UsageError } from '@deprune/errors';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { MAX_IMAGE_PIXELS, centerCrop, checkPixelBudget, fromChannels, imageDimensions, preprocessImage, resizeBilinear, rgbImage, rotate180, type PresetName } from '../src/index';
import { decodeImage, readImage } from '../src/node';

/** A width x height RGBA image with a distinct colour per pixel. */
function rgba(width: number, height: number, alpha = 255): Uint8Array {
  const data = new Uint8Array(width * height * 4);
  for (let pixel = 0; pixel < width * height; pixel++) data.set([(pixel * 7) % 256, (pixel * 13) % 256, (pixel * 29) % 256, alpha], pixel * 4);
  return data;
}

function pngBytes(width: number, height: number, alpha = 255): Uint8Array {
  const png = new PNG({ width, height });
  png.data = Buffer.from(rgba(width, height, alpha));
  return PNG.sync.write(png);
}

describe('decoding', () => {
  it('decodes PNG exactly and composites transparency over white', () => {
    const image = decodeImage(pngBytes(5, 3));
    expect([image.width, image.height]).toEqual([5, 3]);
    expect([...image.data.subarray(0, 6)]).toEqual([0, 0, 0, 7, 13, 29]);
    const clear = decodeImage(pngBytes(2, 2, 0));
    expect([...clear.data]).toEqual(new Array(12).fill(255));
  });

  it('decodes JPEG (lossy: close to the pixels it was made from)', () => {
    const flat = new Uint8Array(16 * 8 * 4).fill(200);
    const bytes = jpeg.encode({ data: flat, width: 16, height: 8 }, 95).data;
    const image = decodeImage(bytes, 'flat.jpg');
    expect([image.width, image.height]).toEqual([16, 8]);
    expect(Math.max(...[...image.data].map((v) => Math.abs(v - 200)))).toBeLessThanOrEqual(2);
  });

  it('refuses other formats, truncated files and missing files with the file named', () => {
    expect(() => decodeImage(new Uint8Array([1, 2, 3]), 'x.bin')).toThrow(/x\.bin: not a PNG or JPEG image/);
    const truncated = pngBytes(8, 8).subarray(0, 40);
    expect(() => decodeImage(truncated, 'cut.png')).toThrow(DeprunError);
    expect(() => decodeImage(truncated, 'cut.png')).toThrow(/cut\.png: cannot decode the image/);
    expect(() => readImage('/nonexistent/image.png')).toThrow(expect.objectContaining({ code: 'FILE_NOT_FOUND' }));
  });
});

/** A real 1x1 PNG with its IHDR size rewritten to width x height: what a decompression bomb's header says. */
function pngHeader(width: number, height: number): Uint8Array {
  const real = PNG.sync.write(Object.assign(new PNG({ width: 1, height: 1 }), { data: Buffer.alloc(4, 255) }));
  const bytes = Uint8Array.from(real);
  const view = new DataView(bytes.buffer);
  view.setUint32(16, width);
  view.setUint32(20, height);
  return bytes;
}

describe('pixel budget: an image is measured before it is decoded', () => {
  it('reads PNG and JPEG sizes from their headers', () => {
    expect(imageDimensions(pngBytes(5, 3))).toEqual({ format: 'png', width: 5, height: 3 });
    const jpg = jpeg.encode({ data: new Uint8Array(16 * 8 * 4).fill(200), width: 16, height: 8 }, 90).data;
    expect(imageDimensions(jpg)).toEqual({ format: 'jpeg', width: 16, height: 8 });
    expect(imageDimensions(new Uint8Array([1, 2, 3]))).toBeUndefined();
  });

  it('refuses a 20000x20000 PNG and a 2147483647 x 2147483647 one, naming the file, the pixel count and the limit', () => {
    const limit = MAX_IMAGE_PIXELS.toLocaleString('en-US');
    expect(() => decodeImage(pngHeader(20000, 20000), 'big.png')).toThrow(
      `big.png: the PNG image is 20000x20000 = 400,000,000 pixels, over the limit of ${limit} pixels`,
    );
    const error = (() => {
      try {
        decodeImage(pngHeader(2147483647, 2147483647), 'bomb.png');
      } catch (caught) {
        return caught as DeprunError;
      }
      throw new Error('expected a refusal');
    })();
    expect(error).toBeInstanceOf(DeprunError);
    expect(error.exitCode).toBe(2);
    expect(error.message).toMatch(/^bomb\.png: the PNG image is 2147483647x2147483647 = 4,611,686,014,132,420,609 pixels, over the limit of 33,554,432 pixels/);
  });

  it('refuses a JPEG whose frame header claims too many pixels, before decoding', () => {
    const jpg = Uint8Array.from(jpeg.encode({ data: new Uint8Array(16 * 8 * 4).fill(200), width: 16, height: 8 }, 90).data);
    const at = jpg.findIndex((byte, index) => byte === 0xff && jpg[index + 1] === 0xc0);
    new DataView(jpg.buffer).setUint16(at + 5, 60000);
    new DataView(jpg.buffer).setUint16(at + 7, 60000);
    expect(() => decodeImage(jpg, 'big.jpg')).toThrow(/^big\.jpg: the JPEG image is 60000x60000 = 3,600,000,000 pixels, over the limit/);
  });

  it('lets an image of exactly the budget through', () => {
    expect(8192 * 4096).toBe(MAX_IMAGE_PIXELS);
    expect(() => checkPixelBudget({ format: 'png', width: 8192, height: 4096 }, 'x.png')).not.toThrow();
    expect(() => checkPixelBudget({ format: 'png', width: 8192, height: 4097 }, 'x.png')).toThrow(/over the limit/);
  });

  it('refuses a resize whose output would exceed the budget (a long thin image through a preset)', () => {
    const thin = rgbImage(40000, 1, new Uint8Array(40000 * 3));
    expect(() => preprocessImage(thin, 'imagenet')).toThrow(/would exceed the limit of \d+ pixels/);
  });
});

describe('pixels', () => {
  it('resizes with half-pixel centres (2x upscale of a ramp) and leaves same-size images alone', () => {
    const ramp = rgbImage(2, 1, Uint8Array.from([0, 0, 0, 100, 100, 100]));
    expect([...resizeBilinear(ramp, 4, 1).data.filter((_, i) => i % 3 === 0)]).toEqual([0, 25, 75, 100]);
    expect(resizeBilinear(ramp, 2, 1)).toBe(ramp);
  });

  it('crops the centre and rotates by 180 degrees', () => {
    const image = fromChannels(3, 3, Uint8Array.from({ length: 9 }, (_, i) => i * 10), 1);
    expect([...centerCrop(image, 1, 1).data]).toEqual([40, 40, 40]);
    expect([...rotate180(image).data.filter((_, i) => i % 3 === 0)]).toEqual([80, 70, 60, 50, 40, 30, 20, 10, 0]);
  });
});

describe('presets', () => {
  const white = rgbImage(300, 60, new Uint8Array(300 * 60 * 3).fill(255));

  it('imagenet: 224x224 RGB with the ImageNet mean and std', () => {
    const { tensor } = preprocessImage(white, 'imagenet');
    expect(tensor.shape).toEqual([1, 3, 224, 224]);
    expect(tensor.data[0]).toBeCloseTo((1 - 0.485) / 0.229, 5);
    expect(tensor.data[2 * 224 * 224]).toBeCloseTo((1 - 0.406) / 0.225, 5);
  });

  it('ppocr-rec: height 48, width from the aspect ratio (at least 320), BGR, (x/255 - 0.5)/0.5, zero padding', () => {
    const { tensor, content } = preprocessImage(white, 'ppocr-rec');
    expect(tensor.shape).toEqual([1, 3, 48, 320]);
    expect(content).toEqual({ width: 240, height: 48 });
    expect(tensor.data[239]).toBe(1);
    expect(tensor.data[240]).toBe(0);
    const wide = preprocessImage(rgbImage(800, 40, new Uint8Array(800 * 40 * 3)), 'ppocr-rec');
    expect(wide.tensor.shape).toEqual([1, 3, 48, 960]);
  });

  it('ppocr-rec and ppocr-det read channels in BGR order', () => {
    const red = rgbImage(4, 4, Uint8Array.from({ length: 48 }, (_, i) => (i % 3 === 0 ? 255 : 0)));
    const rec = preprocessImage(red, 'ppocr-rec').tensor;
    const plane = 48 * 320;
    expect([rec.data[0], rec.data[plane], rec.data[2 * plane]]).toEqual([-1, -1, 1]);
  });

  it('ppocr-cls: 48x192; ppocr-det: sides rounded to multiples of 32, the longest at most maxSide', () => {
    expect(preprocessImage(white, 'ppocr-cls').tensor.shape).toEqual([1, 3, 48, 192]);
    expect(preprocessImage(white, 'ppocr-det').tensor.shape).toEqual([1, 3, 64, 288]);
    const big = rgbImage(2000, 1000, new Uint8Array(2000 * 1000 * 3));
    expect(preprocessImage(big, 'ppocr-det', { maxSide: 640 }).tensor.shape).toEqual([1, 3, 320, 640]);
  });

  it('refuses an unknown preset with a suggestion', () => {
    expect(() => preprocessImage(white, 'ppocr-recc' as PresetName)).toThrow(UsageError);
    expect(() => preprocessImage(white, 'ppocr-recc' as PresetName)).toThrow(/did you mean 'ppocr-rec'/);
  });
});
