import { createWasmBackend } from '../src/index';

const backend = createWasmBackend({ threads: 2 });
const x = { data: new Float32Array(1 * 16 * 8 * 8).fill(1), shape: [1, 16, 8, 8] };
const weight = { data: new Float32Array(24 * 16).fill(0.5), shape: [24, 16] };
const y = await backend.kernel('pwDense')(x, weight, null, { activation: 'relu6' });
console.log(y.shape, y.data[0], backend.owns(y)); // the result is a view of the backend's memory
backend.release(y); // until released: the next kernel could read it in place
backend.dispose();
