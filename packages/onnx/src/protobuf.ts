/**
 * The protobuf codec of ONNX files, driven by the generated schema of onnx.proto (proto-schema.ts):
 * no protobuf library, no generated classes, plain objects in and out.
 *
 * Reading is strict where the official decoders (C++ and Python protobuf, which onnxruntime and the
 * ONNX checker use) are: bytes they would refuse, or read as another model, are refused here with
 * the message, field and byte offset. A general-purpose library reads a known field with the reader
 * of its declared type whatever wire type the tag says, so a flipped bit in a tag would make it read
 * a model no other tool sees. Refused:
 *
 * - a wire type protobuf does not have (6, 7) or a group (3, 4: no ONNX message has one);
 * - field number 0, a varint over 10 bytes, a value or length that runs past its message;
 * - a field of onnx.proto with a wire type its type does not have (a repeated number may come
 *   packed or not, as protobuf allows);
 * - messages nested deeper than protobuf's own default limit of 100.
 *
 * Fields onnx.proto does not define are skipped, as protobuf allows. `bytes` fields (raw_data) are
 * views into the input, not copies: loading a model does not copy its weights.
 *
 * int64 and uint64 values are numbers. Every count, shape and index an ONNX model holds fits a
 * double exactly; the sentinels exporters write past 2^53 (INT64_MAX and INT64_MIN as Slice ends
 * and starts) read as +-2^63 and are written back as INT64_MAX and INT64_MIN, so they survive a
 * round trip. Other values past 2^53 would lose low bits; no ONNX field we read holds one.
 */
import { PROTO_SCHEMA, type FieldSpec } from './proto-schema';

/** C++ protobuf's default recursion limit (io::CodedInputStream::SetRecursionLimit). */
const MAX_DEPTH = 100;

const TWO_32 = 4294967296;
const INT64_MAX_BYTES = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f];
const INT64_MIN_BYTES = [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01];
const UINT64_MAX_BYTES = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01];

const WIRE_NAMES = ['varint', 'fixed64', 'length-delimited', 'group start', 'group end', 'fixed32', 'wire type 6', 'wire type 7'];
const VARINT = 0;
const FIXED64 = 1;
const LENGTH_DELIMITED = 2;
const FIXED32 = 5;

/** A field of the schema, compiled for the codec. */
interface Field {
  readonly number: number;
  readonly name: string;
  readonly property: string;
  /** A scalar type or a message name. */
  readonly type: string;
  readonly message: boolean;
  readonly repeated: boolean;
  readonly packed: boolean;
  /** The wire type of one value. */
  readonly wireType: number;
  /** How a problem names the field's type: 'bytes', 'repeated varint', 'a GraphProto message'. */
  readonly described: string;
}

interface Message {
  readonly name: string;
  readonly fields: readonly Field[];
  readonly byNumber: ReadonlyMap<number, Field>;
}

const SCALAR_WIRE: Readonly<Record<string, number>> = { int32: VARINT, int64: VARINT, uint64: VARINT, float: FIXED32, double: FIXED64, string: LENGTH_DELIMITED, bytes: LENGTH_DELIMITED };
const WIRE_ENCODING = ['varint', 'fixed64', 'bytes', '', '', 'fixed32'];

function compileField([number, name, property, type, label]: FieldSpec): Field {
  const message = !Object.hasOwn(SCALAR_WIRE, type);
  const wireType = message ? LENGTH_DELIMITED : SCALAR_WIRE[type];
  const repeated = label !== undefined;
  const encoding = WIRE_ENCODING[wireType];
  const described = message ? `a ${type} message` : repeated && wireType !== LENGTH_DELIMITED ? `repeated ${encoding}` : encoding;
  return { number, name, property, type, message, repeated, packed: label === 'packed', wireType, described };
}

const MESSAGES: ReadonlyMap<string, Message> = new Map(
  Object.entries(PROTO_SCHEMA).map(([name, specs]) => {
    const fields = specs.map(compileField);
    return [name, { name, fields, byNumber: new Map(fields.map((field) => [field.number, field])) }];
  }),
);

function messageOf(name: string): Message {
  const message = MESSAGES.get(name);
  if (!message) throw new Error(`onnx.proto has no message ${name}`);
  return message;
}

/** Bytes that are not a sound protobuf encoding of the message asked for; the message says where. */
export class WireFormatError extends Error {
  override readonly name = 'WireFormatError';
}

const utf8 = new TextDecoder();

/** Decodes a short string without TextDecoder's call cost (names, op types); longer ones, or any non-ASCII, through it. */
function decodeString(bytes: Uint8Array, start: number, end: number): string {
  if (end - start > 64) return utf8.decode(bytes.subarray(start, end));
  let text = '';
  for (let index = start; index < end; index++) {
    const byte = bytes[index];
    if (byte >= 0x80) return utf8.decode(bytes.subarray(start, end));
    text += String.fromCharCode(byte);
  }
  return text;
}

/** Decodes `bytes` as the onnx.proto message `messageName` ('ModelProto', 'TensorProto', ...). */
export function decodeMessage(bytes: Uint8Array, messageName: string): Record<string, unknown> {
  const reader = new Reader(bytes);
  return reader.message(messageOf(messageName), bytes.length, 1);
}

class Reader {
  position = 0;
  private readonly view: DataView;
  // The field being read: where its tag started and what it is, for the messages of WireFormatError.
  private tagAt = 0;
  private tagMessage = '';
  private tagNumber = 0;
  private tagField: Field | undefined;

  constructor(private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  message(message: Message, end: number, depth: number): Record<string, unknown> {
    if (depth > MAX_DEPTH) throw new WireFormatError(`${message.name} at byte ${this.position}: messages nest deeper than ${MAX_DEPTH}`);
    const out: Record<string, unknown> = {};
    for (const field of message.fields) if (field.repeated) out[field.property] = [];
    while (this.position < end) {
      const at = this.position;
      const tag = this.varint(end);
      if (tag === undefined) throw new WireFormatError(`${message.name}: a field tag at byte ${at} is cut off or over 10 bytes`);
      const number = Math.floor(tag / 8);
      const wireType = tag % 8;
      const field = message.byNumber.get(number);
      this.tagAt = at;
      this.tagMessage = message.name;
      this.tagNumber = number;
      this.tagField = field;
      if (number === 0) throw new WireFormatError(`${message.name}: field number 0 at byte ${at}`);
      if (wireType === 3 || wireType === 4 || wireType > 5) throw this.problem(`has ${WIRE_NAMES[wireType]}, which no ONNX field uses`);
      if (!field) {
        this.skip(wireType, end);
        continue;
      }
      const packedRun = field.repeated && wireType === LENGTH_DELIMITED && field.wireType !== LENGTH_DELIMITED;
      if (wireType !== field.wireType && !packedRun) throw this.problem(`is ${WIRE_NAMES[wireType]}, but ${field.name} is ${field.described}`);
      if (packedRun) {
        const runEnd = this.lengthEnd(end);
        const values = out[field.property] as unknown[];
        while (this.position < runEnd) values.push(this.scalar(field.type, runEnd));
        continue;
      }
      let value: unknown;
      if (field.message) {
        const messageEnd = this.lengthEnd(end);
        value = this.message(messageOf(field.type), messageEnd, depth + 1);
        this.position = messageEnd;
      } else value = this.scalar(field.type, end);
      if (field.repeated) (out[field.property] as unknown[]).push(value);
      else out[field.property] = value;
    }
    return out;
  }

  /** A WireFormatError about the field being read: `ModelProto.ir_version at byte 0 <what>`. */
  private problem(what: string): WireFormatError {
    const name = this.tagField ? this.tagField.name : `field ${this.tagNumber}`;
    return new WireFormatError(`${this.tagMessage}.${name} at byte ${this.tagAt}${what.startsWith(':') ? '' : ' '}${what}`);
  }

  /** One value of a scalar field whose wire type has been checked. */
  private scalar(type: string, end: number): unknown {
    switch (type) {
      case 'float':
        this.fixed(4, end);
        return this.view.getFloat32(this.position - 4, true);
      case 'double':
        this.fixed(8, end);
        return this.view.getFloat64(this.position - 8, true);
      case 'string': {
        const stop = this.lengthEnd(end);
        const text = decodeString(this.bytes, this.position, stop);
        this.position = stop;
        return text;
      }
      case 'bytes': {
        const stop = this.lengthEnd(end);
        const view = this.bytes.subarray(this.position, stop);
        this.position = stop;
        return view;
      }
      default:
        return this.integer(type, end);
    }
  }

  /** An int32 (enums too), int64 or uint64 varint as a number. */
  private integer(type: string, end: number): number {
    let low = 0;
    let high = 0;
    const bytes = this.bytes;
    for (let index = 0; index < 10; index++) {
      if (this.position >= end) break;
      const byte = bytes[this.position++];
      if (index < 4) low |= (byte & 0x7f) << (7 * index);
      else if (index === 4) {
        low |= (byte & 0x0f) << 28;
        high = (byte & 0x7f) >> 4;
      } else high |= (byte & 0x7f) << (7 * index - 32);
      if (byte < 0x80) {
        if (type === 'int32') return low | 0;
        if (type === 'uint64') return (high >>> 0) * TWO_32 + (low >>> 0);
        return (high | 0) * TWO_32 + (low >>> 0);
      }
    }
    throw this.problem(': the varint is cut off or over 10 bytes');
  }

  /** A varint as an unsigned number (tags and lengths), or undefined when cut off or over 10 bytes. */
  private varint(end: number): number | undefined {
    let value = 0;
    const bytes = this.bytes;
    for (let shift = 0; shift < 70; shift += 7) {
      if (this.position >= end) return undefined;
      const byte = bytes[this.position++];
      value += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return value;
    }
    return undefined;
  }

  /** Reads a length and returns where the value it prefixes ends. */
  private lengthEnd(end: number): number {
    const length = this.varint(end);
    if (length === undefined || this.position + length > end) throw this.problem(`: the length ${length ?? '(cut off)'} runs past the end of the ${this.tagMessage}`);
    return this.position + length;
  }

  /** Advances over a fixed-size value. */
  private fixed(size: number, end: number): void {
    this.position += size;
    if (this.position > end) throw this.problem(`: the value runs past the end of the ${this.tagMessage}`);
  }

  private skip(wireType: number, end: number): void {
    if (wireType === VARINT) {
      if (this.varint(end) === undefined) throw this.problem(': the varint is cut off or over 10 bytes');
    } else if (wireType === FIXED64 || wireType === FIXED32) this.fixed(wireType === FIXED64 ? 8 : 4, end);
    else this.position = this.lengthEnd(end);
  }
}

/**
 * Encodes `value` as the onnx.proto message `messageName`. A field is written when it is set (not
 * undefined or null; a repeated field when it has values), whatever its value, as proto2 does.
 * Properties the schema does not name are ignored. Sizes are measured first, so the output is
 * allocated once and every `bytes` value (raw_data) is copied once.
 */
export function encodeMessage(value: object, messageName: string): Uint8Array {
  const message = messageOf(messageName);
  const sizes = new Map<object, number>();
  const size = messageSize(value as Record<string, unknown>, message, sizes);
  const writer = new Writer(size, sizes);
  writer.message(value as Record<string, unknown>, message);
  return writer.bytes;
}

const utf8Encoder = new TextEncoder();

function varintSize(value: number): number {
  let size = 1;
  while (value >= 128) {
    value = Math.floor(value / 128);
    size++;
  }
  return size;
}

function utf8Length(text: string): number {
  let length = text.length;
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (code < 0x80) continue;
    if (code < 0x800) length += 1;
    else if (code >= 0xd800 && code < 0xdc00 && index + 1 < text.length && (text.charCodeAt(index + 1) & 0xfc00) === 0xdc00) {
      length += 2; // a surrogate pair: 4 bytes for 2 code units
      index++;
    } else length += 2;
  }
  return length;
}

/** An integer inside the int64 range (callers handle the ends) as its 64-bit two's complement (high, low) words. */
function int64Words(value: number): [high: number, low: number] {
  const integer = Math.trunc(Number(value)) || 0;
  const high = Math.floor(integer / TWO_32);
  return [high, integer - high * TWO_32];
}

function integerSize(value: number, type: string): number {
  const integer = Math.trunc(Number(value)) || 0;
  if (type === 'uint64') return integer >= 2 ** 64 ? 10 : varintSize(Math.max(0, integer));
  if (integer < 0) return 10; // negative int32 and int64 are sign-extended to 64 bits
  if (integer >= 2 ** 63) return 9;
  return varintSize(integer);
}

function scalarSize(value: unknown, type: string): number {
  switch (type) {
    case 'float':
      return 4;
    case 'double':
      return 8;
    case 'string': {
      const length = utf8Length(value as string);
      return varintSize(length) + length;
    }
    case 'bytes': {
      const length = (value as Uint8Array).length;
      return varintSize(length) + length;
    }
    default:
      return integerSize(value as number, type);
  }
}

function messageSize(value: Record<string, unknown>, message: Message, sizes: Map<object, number>): number {
  let size = 0;
  for (const field of message.fields) {
    const content = value[field.property];
    if (content === undefined || content === null) continue;
    const tag = varintSize(field.number * 8);
    const values = field.repeated ? (content as unknown[]) : [content];
    if (values.length === 0) continue;
    if (field.packed) {
      let run = 0;
      for (const each of values) run += scalarSize(each, field.type);
      sizes.set(values, run);
      size += tag + varintSize(run) + run;
      continue;
    }
    for (const each of values) {
      if (field.message) {
        const inner = messageSize(each as Record<string, unknown>, messageOf(field.type), sizes);
        sizes.set(each as object, inner);
        size += tag + varintSize(inner) + inner;
      } else size += tag + scalarSize(each, field.type);
    }
  }
  return size;
}

class Writer {
  readonly bytes: Uint8Array;
  private readonly view: DataView;
  private position = 0;

  constructor(
    size: number,
    private readonly sizes: Map<object, number>,
  ) {
    this.bytes = new Uint8Array(size);
    this.view = new DataView(this.bytes.buffer);
  }

  message(value: Record<string, unknown>, message: Message): void {
    for (const field of message.fields) {
      const content = value[field.property];
      if (content === undefined || content === null) continue;
      const values = field.repeated ? (content as unknown[]) : [content];
      if (values.length === 0) continue;
      if (field.packed) {
        this.varint(field.number * 8 + LENGTH_DELIMITED);
        this.varint(this.sizes.get(values)!);
        for (const each of values) this.scalar(each, field.type);
        continue;
      }
      for (const each of values) {
        this.varint(field.number * 8 + field.wireType);
        if (field.message) {
          this.varint(this.sizes.get(each as object)!);
          this.message(each as Record<string, unknown>, messageOf(field.type));
        } else this.scalar(each, field.type);
      }
    }
  }

  private scalar(value: unknown, type: string): void {
    switch (type) {
      case 'float':
        this.view.setFloat32(this.position, Number(value), true);
        this.position += 4;
        return;
      case 'double':
        this.view.setFloat64(this.position, Number(value), true);
        this.position += 8;
        return;
      case 'string': {
        const text = value as string;
        this.varint(utf8Length(text));
        this.position += utf8Encoder.encodeInto(text, this.bytes.subarray(this.position)).written;
        return;
      }
      case 'bytes': {
        const data = value as Uint8Array;
        this.varint(data.length);
        this.bytes.set(data, this.position);
        this.position += data.length;
        return;
      }
      default:
        this.integer(value as number, type);
    }
  }

  private integer(value: number, type: string): void {
    const integer = Math.trunc(Number(value)) || 0;
    if (type === 'uint64') return integer >= 2 ** 64 ? this.raw(UINT64_MAX_BYTES) : this.varint(Math.max(0, integer));
    if (integer >= 0 && integer < TWO_32) return this.varint(integer);
    if (integer >= 2 ** 63) return this.raw(INT64_MAX_BYTES);
    if (integer <= -(2 ** 63)) return this.raw(INT64_MIN_BYTES);
    if (integer >= 0) return this.varint(integer); // below 2^63: exact as far as the double is
    // Negative: the 64-bit two's complement, 10 bytes (int32 is sign-extended the same way).
    let [high, low] = int64Words(integer);
    high >>>= 0;
    for (let index = 0; index < 9; index++) {
      this.bytes[this.position++] = (low & 0x7f) | 0x80;
      low = (low >>> 7) | ((high & 0x7f) << 25);
      high >>>= 7;
    }
    this.bytes[this.position++] = low & 0x01;
  }

  private raw(bytes: readonly number[]): void {
    this.bytes.set(bytes, this.position);
    this.position += bytes.length;
  }

  private varint(value: number): void {
    while (value >= 128) {
      this.bytes[this.position++] = (value % 128) | 0x80;
      value = Math.floor(value / 128);
    }
    this.bytes[this.position++] = value;
  }
}
