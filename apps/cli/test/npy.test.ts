import { describe, expect, it } from 'vitest';
import { DeprunError } from '@deprune/errors';
import { MAX_NPY_HEADER_BYTES, encodeNpy, readNpy } from '../src/npy';

const MAGIC = '\x93NUMPY';

function latin1(text: string): Uint8Array {
  return Uint8Array.from(text, (char) => char.charCodeAt(0));
}

function hex(text: string): Uint8Array {
  return Uint8Array.from(text.match(/../g) ?? [], (pair) => Number.parseInt(pair, 16));
}

/**
 * An .npy file built by hand the way numpy's format.py does: the dict literal, then spaces
 * and '\n' so that the data starts on a 64-byte boundary (version 1: uint16 header length;
 * versions 2 and 3: uint32).
 */
function npyFile(dict: string, data: Uint8Array, major = 1): Uint8Array {
  const preamble = major === 1 ? 10 : 12;
  const padding = 64 - ((preamble + dict.length + 1) % 64);
  const header = `${dict}${' '.repeat(padding)}\n`;
  const headerBytes = major === 3 ? new TextEncoder().encode(header) : latin1(header);
  const bytes = new Uint8Array(preamble + headerBytes.length + data.length);
  bytes.set(latin1(MAGIC), 0);
  bytes[6] = major;
  bytes[7] = 0;
  const view = new DataView(bytes.buffer);
  if (major === 1) view.setUint16(8, headerBytes.length, true);
  else view.setUint32(8, headerBytes.length, true);
  bytes.set(headerBytes, preamble);
  bytes.set(data, preamble + headerBytes.length);
  return bytes;
}

function float32Bytes(values: number[]): Uint8Array {
  return new Uint8Array(new Float32Array(values).buffer);
}

function expectError(action: () => unknown, code: string, pattern: RegExp): void {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(DeprunError);
    expect((error as DeprunError).code).toBe(code);
    expect((error as DeprunError).exitCode).toBe(2);
    expect((error as DeprunError).message).toMatch(pattern);
    return;
  }
  throw new Error('expected an error');
}

// Written by numpy 2.4.6: np.save(f, np.array([[1.5, -2.25, 3.0], [0.1, 1e-30, -0.0]], dtype='<f4'))
const NUMPY_F4_2x3 =
  '934e554d5059010076007b276465736372273a20273c6634272c2027666f727472616e5f6f72646572273a2046616c73652c20277368617065273a2028322c2033292c207d' +
  '20'.repeat(58) + '0a0000c03f000010c000004040cdcccc3d6042a20d00000080';
// np.save(f, np.array([0, -3, 2**53 - 1], dtype='<i8'))
const NUMPY_I8 =
  '934e554d5059010076007b276465736372273a20273c6938272c2027666f727472616e5f6f72646572273a2046616c73652c20277368617065273a2028332c292c207d' +
  '20'.repeat(60) + '0a0000000000000000fdffffffffffffffffffffffffff1f00';
// np.save(f, np.array([[0, 255], [7, 128]], dtype='|u1'))
const NUMPY_U1 =
  '934e554d5059010076007b276465736372273a20277c7531272c2027666f727472616e5f6f72646572273a2046616c73652c20277368617065273a2028322c2032292c207d' +
  '20'.repeat(58) + '0a00ff0780';
// np.save(f, np.float32(2.5))
const NUMPY_SCALAR =
  '934e554d5059010076007b276465736372273a20273c6634272c2027666f727472616e5f6f72646572273a2046616c73652c20277368617065273a2028292c207d' +
  '20'.repeat(62) + '0a00002040';

describe('readNpy', () => {
  it('reads a float32 file exactly as numpy writes it', () => {
    const array = readNpy(hex(NUMPY_F4_2x3), 'x.npy');
    expect(array.dtype).toBe('float32');
    expect(array.shape).toEqual([2, 3]);
    expect(array.data).toBeInstanceOf(Float32Array);
    expect(Array.from(array.data)).toEqual(Array.from(new Float32Array([1.5, -2.25, 3.0, 0.1, 1e-30, -0.0])));
    expect(Object.is(array.data[5], -0)).toBe(true);
  });

  it('reads the hand-built header format (v1, padded to 64 bytes)', () => {
    const dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
    const bytes = npyFile(dict, float32Bytes([1, 2, 3, 4, 5, 6]));
    expect(bytes.length % 64).toBe(24); // 64-byte header + 6 * 4 bytes of data
    const array = readNpy(bytes);
    expect(array.shape).toEqual([2, 3]);
    expect(Array.from(array.data)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('reads versions 2.0 and 3.0 (uint32 header length, UTF-8 header)', () => {
    for (const major of [2, 3]) {
      const array = readNpy(npyFile("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", float32Bytes([7, 8, 9]), major));
      expect(array.shape).toEqual([3]);
      expect(Array.from(array.data)).toEqual([7, 8, 9]);
    }
  });

  it('reads scalars, empty arrays and float64', () => {
    const scalar = readNpy(hex(NUMPY_SCALAR));
    expect(scalar.shape).toEqual([]);
    expect(Array.from(scalar.data)).toEqual([2.5]);
    const empty = readNpy(npyFile("{'descr': '<f4', 'fortran_order': False, 'shape': (0, 4), }", new Uint8Array(0)));
    expect(empty.shape).toEqual([0, 4]);
    expect(empty.data.length).toBe(0);
    const doubles = new Float64Array([Math.PI, -1e300, 5e-324]);
    const array = readNpy(npyFile("{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }", new Uint8Array(doubles.buffer)));
    expect(array.dtype).toBe('float64');
    expect(Array.from(array.data)).toEqual(Array.from(doubles));
  });

  it('reads int64, int32 and uint8 as numbers', () => {
    const longs = readNpy(hex(NUMPY_I8));
    expect(longs.dtype).toBe('int64');
    expect(Array.from(longs.data)).toEqual([0, -3, Number.MAX_SAFE_INTEGER]);
    const bytes = readNpy(hex(NUMPY_U1));
    expect(bytes.dtype).toBe('uint8');
    expect(bytes.shape).toEqual([2, 2]);
    expect(Array.from(bytes.data)).toEqual([0, 255, 7, 128]);
    const ints = readNpy(npyFile("{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }", new Uint8Array(new Int32Array([-1, 2 ** 31 - 1]).buffer)));
    expect(Array.from(ints.data)).toEqual([-1, 2 ** 31 - 1]);
  });

  it('refuses int64 values a double cannot hold exactly', () => {
    const data = new Uint8Array(new BigInt64Array([2n ** 53n + 1n]).buffer);
    expectError(() => readNpy(npyFile("{'descr': '<i8', 'fortran_order': False, 'shape': (1,), }", data), 'big.npy'), 'BAD_DTYPE', /big\.npy: int64 value/);
  });

  it('refuses Fortran order, big-endian and other dtypes with the file named', () => {
    expectError(
      () => readNpy(npyFile("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", float32Bytes([1, 2, 3, 4])), 'f.npy'),
      'UNSUPPORTED',
      /^f\.npy: Fortran-order .*ascontiguousarray/,
    );
    expectError(
      () => readNpy(npyFile("{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }", new Uint8Array(4)), 'be.npy'),
      'BAD_DTYPE',
      /^be\.npy: big-endian/,
    );
    expectError(() => readNpy(npyFile("{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }", new Uint8Array(8)), 'c.npy'), 'BAD_DTYPE', /c\.npy: unsupported dtype '<c8'/);
    expectError(
      () => readNpy(npyFile("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }", new Uint8Array(4)), 's.npy'),
      'BAD_DTYPE',
      /structured/,
    );
  });

  it('refuses malformed files: bad magic, short, truncated data, trailing bytes, broken header', () => {
    expectError(() => readNpy(new Uint8Array([1, 2, 3]), 'a.npy'), 'INVALID_MODEL', /^a\.npy: not a valid \.npy file: the file is too short/);
    expectError(() => readNpy(latin1('PK\x03\x04 this is a zip file'), 'b.npy'), 'INVALID_MODEL', /magic/);
    const good = hex(NUMPY_F4_2x3);
    expectError(() => readNpy(good.subarray(0, good.length - 1), 'c.npy'), 'INVALID_MODEL', /^c\.npy: .*truncated: shape \(2, 3\) of float32 needs 24 bytes of data, the file has 23/);
    expectError(() => readNpy(good.subarray(0, 40), 'd.npy'), 'INVALID_MODEL', /header says it is 118 bytes/);
    const longer = new Uint8Array(good.length + 4);
    longer.set(good);
    expectError(() => readNpy(longer, 'e.npy'), 'INVALID_MODEL', /4 unexpected bytes/);
    expectError(() => readNpy(npyFile("{'descr': '<f4', 'shape': (1,), }", new Uint8Array(4)), 'g.npy'), 'INVALID_MODEL', /fortran_order/);
    expectError(() => readNpy(npyFile("{'descr': '<f4', 'fortran_order': False, 'shape': (a,), }", new Uint8Array(4)), 'h.npy'), 'INVALID_MODEL', /bad shape/);
    expectError(() => readNpy(npyFile('not a dict', new Uint8Array(0)), 'i.npy'), 'INVALID_MODEL', /not a Python dict/);
    const version = hex(NUMPY_F4_2x3);
    version[6] = 4;
    expectError(() => readNpy(version, 'j.npy'), 'UNSUPPORTED', /format version 4\.0/);
  });

  it('refuses a header over 64 KiB before parsing it (a v2 header of spaces once took gigabytes)', () => {
    const dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }";
    const padded = npyFile(`${dict}${' '.repeat(MAX_NPY_HEADER_BYTES)}`, float32Bytes([5]), 2);
    expectError(() => readNpy(padded, 'spaces.npy'), 'INVALID_MODEL', new RegExp(`^spaces\\.npy: not a valid \\.npy file: the header says it is \\d+ bytes; headers over ${MAX_NPY_HEADER_BYTES} bytes are refused`));
    // The length field alone decides: a v2 file claiming a 4 GiB header is refused without looking further.
    const claimed = npyFile(dict, float32Bytes([5]), 2);
    new DataView(claimed.buffer).setUint32(8, 0xffffffff, true);
    expectError(() => readNpy(claimed, 'claim.npy'), 'INVALID_MODEL', /header says it is 4294967295 bytes; headers over/);
    expect(Array.from(readNpy(npyFile(`${dict}${' '.repeat(60_000)}`, float32Bytes([5]), 2)).data)).toEqual([5]);
  });

  it("refuses a descr that names an Object property ('<constructor', '|__proto__') as an unsupported dtype", () => {
    for (const descr of ['<constructor', '|__proto__', '<toString']) {
      expectError(() => readNpy(npyFile(`{'descr': '${descr}', 'fortran_order': False, 'shape': (1,), }`, new Uint8Array(4)), 'p.npy'), 'BAD_DTYPE', /^p\.npy: unsupported dtype/);
    }
  });
});

describe('encodeNpy', () => {
  it('writes the same bytes as numpy.save', () => {
    const data = new Float32Array([1.5, -2.25, 3.0, 0.1, 1e-30, -0.0]);
    expect(Buffer.from(encodeNpy(data, [2, 3])).toString('hex')).toBe(NUMPY_F4_2x3);
    expect(Buffer.from(encodeNpy(new Float32Array([2.5]), [])).toString('hex')).toBe(NUMPY_SCALAR);
  });

  it('pads every header so the data starts on a 64-byte boundary', () => {
    for (const shape of [[1], [3, 1], [1, 3, 224, 224], [123456789, 0], [0]]) {
      const count = shape.reduce((a, b) => a * b, 1);
      const bytes = encodeNpy(new Float64Array(count), shape);
      const headerLength = new DataView(bytes.buffer).getUint16(8, true);
      expect((10 + headerLength) % 64).toBe(0);
      expect(bytes[10 + headerLength - 1]).toBe(0x0a);
      expect(readNpy(bytes).shape).toEqual(shape);
    }
  });

  it('round-trips float32 bit-exactly, including NaN payloads, infinities, -0 and subnormals', () => {
    const bits = new Uint32Array([0x7fc00001, 0xff800000, 0x7f800000, 0x80000000, 0x00000001, 0x3f800001, 0x7f7fffff]);
    const values = new Float32Array(bits.buffer);
    const back = readNpy(encodeNpy(values, [7])).data as Float32Array;
    expect(Array.from(new Uint32Array(back.buffer))).toEqual(Array.from(bits));
    const random = new Float32Array(4096).map((_, i) => Math.sin(i * 12.9898) * 43758.5453);
    expect(Array.from(readNpy(encodeNpy(random, [64, 64])).data)).toEqual(Array.from(random));
  });

  it('round-trips float64', () => {
    const values = new Float64Array([Math.PI, Number.MIN_VALUE, -Number.MAX_VALUE, 1 / 3]);
    const array = readNpy(encodeNpy(values, [2, 2]));
    expect(array.dtype).toBe('float64');
    expect(Array.from(array.data)).toEqual(Array.from(values));
  });

  it('refuses a shape that does not match the data', () => {
    expect(() => encodeNpy(new Float32Array(5), [2, 3])).toThrow(/holds 6 values but 5/);
    expect(() => encodeNpy(new Float32Array(0), [-1])).toThrow(/shape/);
  });
});
