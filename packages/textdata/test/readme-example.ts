import { generateClsSet, generateDetSet, generateRecSet } from '@deprune/textdata';

// Seeded: the same call gives the same images (with the same package versions).
const lines = generateRecSet(3, 1);
for (const { name, text, image } of lines) console.log(name, JSON.stringify(text), `${image.width}x${image.height}`);
console.log(generateClsSet(4, 1).map((sample) => sample.label).join(' '));
const [scene] = generateDetSet(1, 1);
console.log(scene.boxes.map((box) => box.text).join(' | '));
// writeDataset(folder, 'rec', lines) writes the PNGs and a PaddleOCR labels.txt.
