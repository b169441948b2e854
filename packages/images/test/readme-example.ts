import { PNG } from 'pngjs';
import { preprocessImage, rotate180 } from '../src/index';
import { decodeImage } from '../src/node';

// A 120x30 PNG (any PNG or JPEG file works the same way: readImage(path) from '@deprune/images/node').
const png = new PNG({ width: 120, height: 30 });
png.data.fill(255);
const image = decodeImage(PNG.sync.write(png), 'line.png');

for (const preset of ['ppocr-rec', 'ppocr-cls', 'ppocr-det', 'imagenet'] as const) {
  const input = preprocessImage(image, preset);
  console.log(preset, input.tensor.shape, input.content);
}
// Text-direction data: the same line upside down.
console.log(rotate180(image).width);
