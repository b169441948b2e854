/**
 * Format-aware and byte-level mutations of the fuzzer's seeds. Every mutation draws from the
 * seeded `Rng` it is given (the same seed gives the same bytes) and says what it did, so a
 * failing case can be read and replayed. The values are the ones that broke parsers before:
 * 0, -1, 2^31, 2^40, truncations, wrong types, control characters, deep nesting.
 */
import type { Rng } from '@deprune/tensor';

export interface Mutated<T> {
  value: T;
  /** What was done, e.g. `flip 3 bits; truncate to 120 bytes`. */
  steps: string[];
}

export function pick<T>(rng: Rng, items: readonly T[]): T {
  return items[rng.int(items.length)];
}

export function chance(rng: Rng, probability: number): boolean {
  return rng.next() < probability;
}

/** Numbers that break size arithmetic and allocators. */
export const EXTREME_NUMBERS = [0, -1, 1, 3, 7, 255, 65_536, 2 ** 31 - 1, 2 ** 31, 2 ** 32, 2 ** 40, 2 ** 53, 1e9] as const;

/** Names that try to rewrite the terminal, hide text or blow up a message. */
export const HOSTILE_NAMES = ['\r', '\u001b[2J\u001b[H', 'a\u0000b', '\u009b31m', 'line\nbreak', '__proto__', 'constructor', 'toString', '', 'x'.repeat(5000), '../../etc/passwd', '%s%n', '\u202eevil'] as const;

type ByteMutation = (bytes: Uint8Array, rng: Rng) => Mutated<Uint8Array>;

const flipBits: ByteMutation = (bytes, rng) => {
  const out = Uint8Array.from(bytes);
  const count = 1 + rng.int(8);
  for (let flip = 0; flip < count && out.length > 0; flip++) out[rng.int(out.length)] ^= 1 << rng.int(8);
  return { value: out, steps: [`flip ${count} bits`] };
};

const setBytes: ByteMutation = (bytes, rng) => {
  const out = Uint8Array.from(bytes);
  const at = rng.int(Math.max(1, out.length));
  const value = pick(rng, [0x00, 0xff, 0x7f, 0x80]);
  const count = 1 + rng.int(16);
  out.fill(value, at, at + count);
  return { value: out, steps: [`set ${count} bytes at ${at} to 0x${value.toString(16)}`] };
};

const truncate: ByteMutation = (bytes, rng) => {
  const length = rng.int(Math.max(1, bytes.length));
  return { value: bytes.slice(0, length), steps: [`truncate to ${length} bytes`] };
};

const insertRandom: ByteMutation = (bytes, rng) => {
  const at = rng.int(bytes.length + 1);
  const extra = Uint8Array.from({ length: 1 + rng.int(32) }, () => rng.int(256));
  const out = new Uint8Array(bytes.length + extra.length);
  out.set(bytes.subarray(0, at));
  out.set(extra, at);
  out.set(bytes.subarray(at), at + extra.length);
  return { value: out, steps: [`insert ${extra.length} random bytes at ${at}`] };
};

const duplicateChunk: ByteMutation = (bytes, rng) => {
  if (bytes.length < 2) return { value: bytes, steps: ['duplicate nothing'] };
  const from = rng.int(bytes.length - 1);
  const length = 1 + rng.int(Math.min(256, bytes.length - from));
  const at = rng.int(bytes.length + 1);
  const chunk = bytes.slice(from, from + length);
  const out = new Uint8Array(bytes.length + length);
  out.set(bytes.subarray(0, at));
  out.set(chunk, at);
  out.set(bytes.subarray(at), at + length);
  return { value: out, steps: [`copy ${length} bytes from ${from} to ${at}`] };
};

const BYTE_MUTATIONS: readonly ByteMutation[] = [flipBits, setBytes, truncate, insertRandom, duplicateChunk];

/** One to three byte-level mutations. */
export function mutateBytes(bytes: Uint8Array, rng: Rng): Mutated<Uint8Array> {
  let value = bytes;
  const steps: string[] = [];
  const count = 1 + rng.int(3);
  for (let step = 0; step < count; step++) {
    const mutated = pick(rng, BYTE_MUTATIONS)(value, rng);
    value = mutated.value;
    steps.push(...mutated.steps);
  }
  return { value, steps };
}

const DEEP_MARK = 'deep nesting, levels: ';

/** Replaces each deep-nesting mark with that many nested arrays and objects (as text: building them would overflow the stack here). */
function spliceDeepNesting(json: string): string {
  return json.replace(new RegExp(`"${DEEP_MARK}(\\d+)"`, 'g'), (_, levels: string) => {
    const depth = Number(levels);
    const open = Array.from({ length: depth }, (_, level) => (level % 2 ? '[' : '{"a":')).join('');
    const close = Array.from({ length: depth }, (_, level) => (level % 2 ? ']' : '}')).reverse().join('');
    return `${open}1${close}`;
  });
}

/** Replacement values for a JSON node: wrong types, extremes, hostile strings, big and deep structures. */
function hostileJsonValue(rng: Rng): unknown {
  switch (rng.int(10)) {
    case 0:
      return null;
    case 1:
      return pick(rng, [true, false]);
    case 2:
      return pick(rng, EXTREME_NUMBERS) * pick(rng, [1, -1, 0.5]);
    case 3:
      return pick(rng, [1e308, -1e308, 5e-324, 0.999999999, 1.0000001]);
    case 4:
      return pick(rng, HOSTILE_NAMES);
    case 5:
      return [];
    case 6:
      return {};
    case 7:
      return Array.from({ length: pick(rng, [3, 100, 20_000]) }, (_, index) => index);
    case 8:
      // Nesting deep enough to overflow a recursive walker: spliced in as text (see deepNesting).
      return `${DEEP_MARK}${pick(rng, [40, 600, 5000])}`;
    default:
      return `${pick(rng, ['deprune', 'channel', 'nm', 'group', 'obs', 'saliency', 'uniform', 'macs', '*', '**', 'block.*'])}${pick(rng, ['', '-', 'x', '\u0000'])}`;
  }
}

type JsonContainer = Record<string, unknown> | unknown[];

/** A random container inside `root` (root included), reached by walking random keys. */
function randomContainer(root: JsonContainer, rng: Rng): { container: JsonContainer; path: string } {
  let container = root;
  let path = '$';
  for (let depth = 0; depth < 6 && chance(rng, 0.7); depth++) {
    const keys = Object.keys(container);
    if (keys.length === 0) break;
    const key = pick(rng, keys);
    const child = (container as Record<string, unknown>)[key];
    if (child === null || typeof child !== 'object') break;
    container = child as JsonContainer;
    path += Array.isArray(container) ? `[${key}]` : `.${key}`;
  }
  return { container, path };
}

/** One to four structural edits of a JSON document: delete, replace, add hostile keys, truncate arrays. */
export function mutateJson(text: string, rng: Rng): Mutated<string> {
  const root = JSON.parse(text) as JsonContainer;
  const steps: string[] = [];
  const count = 1 + rng.int(4);
  for (let step = 0; step < count; step++) {
    const { container, path } = randomContainer(root, rng);
    const keys = Object.keys(container);
    const key = keys.length > 0 ? pick(rng, keys) : '0';
    const action = rng.int(5);
    if (action === 0 && keys.length > 0) {
      if (Array.isArray(container)) container.splice(Number(key), 1);
      else delete container[key];
      steps.push(`delete ${path}[${JSON.stringify(key)}]`);
    } else if (action === 1 && Array.isArray(container)) {
      const length = rng.int(container.length + 1);
      container.length = length;
      steps.push(`truncate ${path} to ${length}`);
    } else if (action === 2 && !Array.isArray(container)) {
      const name = pick(rng, HOSTILE_NAMES);
      Object.defineProperty(container, name, { value: hostileJsonValue(rng), enumerable: true, configurable: true, writable: true });
      steps.push(`add key ${JSON.stringify(name.slice(0, 20))} to ${path}`);
    } else {
      const value = hostileJsonValue(rng);
      (container as Record<string, unknown>)[key] = value;
      steps.push(`set ${path}[${JSON.stringify(key)}] to ${JSON.stringify(value)?.slice(0, 40) ?? 'undefined'}`);
    }
  }
  let value = spliceDeepNesting(JSON.stringify(root));
  if (chance(rng, 0.15)) {
    const mutated = mutateBytes(new TextEncoder().encode(value), rng);
    value = Buffer.from(mutated.value).toString('latin1');
    steps.push(...mutated.steps);
  }
  return { value, steps };
}

/** `.npy` files with a hostile header (dtype, shape, order, sizes, version) or damaged bytes. */
export function mutateNpy(seed: Uint8Array, rng: Rng): Mutated<Uint8Array> {
  if (chance(rng, 0.3)) return mutateBytes(seed, rng);
  const descr = pick(rng, ['<f4', '<f4', '<f8', '>f4', '<i4', '|u1', '<f2', '|O', '<c8', '<U3', 'f4', 'garbage', '']);
  const dims = Array.from({ length: pick(rng, [0, 1, 2, 4, 4, 4, 5, 9]) }, () => pick(rng, [1, 1, 3, 3, 16, 16, 0, 2 ** 31, 2 ** 40, 1e9, -1]));
  const shape = pick(rng, [`(${dims.join(', ')}${dims.length === 1 ? ',' : ''})`, `(${dims.join(', ')})`, '[1, 3, 16, 16]', '(1, 3, 16, 16.5)', "('1', 3)", '((1,),)', 'None']);
  const order = pick(rng, ['False', 'False', 'True', '0', "'no'"]);
  const padding = ' '.repeat(pick(rng, [0, 10, 1000, 70_000]));
  const header = `{'descr': '${descr}', 'fortran_order': ${order}, 'shape': ${shape}, }${padding}\n`;
  const version = pick(rng, [1, 1, 2, 3, 0, 99]);
  const lengthBytes = version === 1 ? 2 : 4;
  const dataLength = pick(rng, [0, 4 * 768, 4 * 768, 4 * 768 - 3, 100, 4 * 768 * 2]);
  const out = new Uint8Array(8 + lengthBytes + header.length + dataLength);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
  const view = new DataView(out.buffer);
  const declaredLength = chance(rng, 0.85) ? header.length : pick(rng, [0, 1, 65_535, 2 ** 31]);
  if (lengthBytes === 2) view.setUint16(8, declaredLength & 0xffff, true);
  else view.setUint32(8, declaredLength >>> 0, true);
  for (let index = 0; index < header.length; index++) out[8 + lengthBytes + index] = header.charCodeAt(index) & 0xff;
  return { value: out, steps: [`npy v${version} descr ${descr} shape ${shape} order ${order} header ${declaredLength}/${header.length} bytes, ${dataLength} data bytes`] };
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let bit = 0; bit < 8; bit++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) crc = CRC_TABLE[(crc ^ byte) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** A PNG whose IHDR says another size, depth or colour type (CRC fixed or not), or damaged bytes. */
export function mutatePng(seed: Uint8Array, rng: Rng): Mutated<Uint8Array> {
  if (chance(rng, 0.4)) return mutateBytes(seed, rng);
  const out = Uint8Array.from(seed);
  const view = new DataView(out.buffer);
  const width = pick(rng, [0, 1, 64, 2 ** 31 - 1, 2 ** 32 - 1, 20_000, 65_535]);
  const height = pick(rng, [0, 1, 16, 2 ** 31 - 1, 20_000, 3]);
  view.setUint32(16, width >>> 0);
  view.setUint32(20, height >>> 0);
  const depth = pick(rng, [8, 8, 1, 16, 3, 0]);
  const colour = pick(rng, [2, 2, 0, 3, 4, 6, 7]);
  out[24] = depth;
  out[25] = colour;
  const fixCrc = chance(rng, 0.8);
  if (fixCrc) view.setUint32(29, crc32(out.subarray(12, 29)));
  return { value: out, steps: [`png IHDR ${width}x${height} depth ${depth} colour ${colour}${fixCrc ? '' : ' (stale CRC)'}`] };
}

/** A JPEG whose frame header says another size, or damaged bytes. */
export function mutateJpeg(seed: Uint8Array, rng: Rng): Mutated<Uint8Array> {
  const frame = seed.findIndex((byte, index) => byte === 0xff && (seed[index + 1] === 0xc0 || seed[index + 1] === 0xc2));
  if (frame < 0 || chance(rng, 0.4)) return mutateBytes(seed, rng);
  const out = Uint8Array.from(seed);
  const view = new DataView(out.buffer);
  const height = pick(rng, [0, 1, 16, 65_535, 30_000]);
  const width = pick(rng, [0, 1, 48, 65_535, 30_000]);
  view.setUint16(frame + 5, height);
  view.setUint16(frame + 7, width);
  return { value: out, steps: [`jpeg SOF ${width}x${height}`] };
}
