import { describe, expect, it } from 'vitest';
import { DeprunError, UsageError } from '@deprune/errors';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { centerCrop, fromChannels, preprocessImage, resizeBilinear, rgbImage, rotate180, type PresetName } from '../src/index';
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
