import { convGeometry, encodeActivation } from '../src/index';

// What every backend receives for a fused ReLU6, and the output of a 3x3 stride-2 DW conv.
console.log(encodeActivation('relu6'));
console.log(convGeometry([1, 32, 112, 112], [32, 1, 3, 3], { strides: [2, 2], pads: [1, 1, 1, 1], group: 32 }).outputShape);
