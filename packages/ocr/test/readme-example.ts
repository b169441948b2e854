import { ctcGreedyDecode, ppocrCharset } from '../src/index';

// A rec model's classes: blank, the key file's characters, space.
const charset = ppocrCharset('a\nb\nc\n');
console.log(charset.length); // blank + 3 keys + space

// 5 time steps of scores over those 5 classes: a, a (repeat, merged), blank, a, c.
const steps = [
  [0.1, 0.8, 0.05, 0.03, 0.02],
  [0.1, 0.7, 0.1, 0.05, 0.05],
  [0.9, 0.05, 0.02, 0.02, 0.01],
  [0.2, 0.6, 0.1, 0.05, 0.05],
  [0.1, 0.1, 0.1, 0.6, 0.1],
];
const decoded = ctcGreedyDecode(steps.flat(), [1, 5, 5], charset);
console.log(decoded.text, decoded.confidence.toFixed(3));
