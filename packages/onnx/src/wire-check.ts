/**
 * The protobuf wire format of an ONNX file, checked before protobufjs decodes it. protobufjs reads
 * a field it knows with the reader of its declared type whatever wire type the tag says, so a
 * flipped bit in a tag makes it read bytes the official decoders (C++ and Python protobuf, which
 * onnxruntime and the ONNX checker use) refuse or skip: the same file would mean one model to
 * deprune and another, or nothing, to every other tool. Refused here:
 *
 * - a wire type protobuf does not have (6, 7) or a group (3, 4: no ONNX message has one);
 * - field number 0, a varint over 10 bytes, a value or length that runs past its message;
 * - a field of onnx.proto (proto-fields.ts) with a wire type its type does not have.
 *
 * Fields onnx.proto does not define are skipped, as protobuf allows. The walk keeps its own stack,
 * so deeply nested subgraphs cannot overflow the call stack.
 */
import { PROTO_FIELDS } from './proto-fields';

/** The wire types each encoding of proto-fields.ts may arrive with. */
const WIRE_TYPES: Readonly<Record<string, readonly number[]>> = {
  varint: [0],
  fixed64: [1],
  bytes: [2],
  fixed32: [5],
  'varint*': [0, 2],
  'fixed64*': [1, 2],
  'fixed32*': [5, 2],
};
const WIRE_NAMES = ['varint', 'fixed64', 'length-delimited', 'group start', 'group end', 'fixed32', 'wire type 6', 'wire type 7'];

interface Frame {
  readonly message: string;
  readonly end: number;
}

/** What is wrong with the bytes as a protobuf ModelProto, in a line; undefined when the wire format is sound. */
export function wireFormatProblem(bytes: Uint8Array): string | undefined {
  let position = 0;
  /** A varint at `position` (advancing it), or undefined when it is truncated or over 10 bytes. */
  const varint = (end: number): number | undefined => {
    let value = 0;
    for (let shift = 0; shift < 70; shift += 7) {
      if (position >= end) return undefined;
      const byte = bytes[position++];
      value += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return value;
    }
    return undefined;
  };
  const stack: Frame[] = [{ message: 'ModelProto', end: bytes.length }];
  while (stack.length > 0) {
    const { message, end } = stack[stack.length - 1];
    if (position === end) {
      stack.pop();
      continue;
    }
    const at = position;
    const tag = varint(end);
    if (tag === undefined) return `${message}: a field tag at byte ${at} is cut off or over 10 bytes`;
    const number = Math.floor(tag / 8);
    const wireType = tag % 8;
    const declared = Object.hasOwn(PROTO_FIELDS[message], number) ? PROTO_FIELDS[message][number] : undefined;
    const [name, encoding] = declared ? declared.split(' ') : [`field ${number}`, undefined];
    const where = `${message}.${name} at byte ${at}`;
    if (number === 0) return `${message}: field number 0 at byte ${at}`;
    if (wireType === 3 || wireType === 4 || wireType > 5) return `${where} has ${WIRE_NAMES[wireType]}, which no ONNX field uses`;
    const allowed = encoding === undefined ? undefined : (WIRE_TYPES[encoding] ?? [2]);
    if (allowed && !allowed.includes(wireType)) return `${where} is ${WIRE_NAMES[wireType]}, but ${name} is ${encoding!.endsWith('*') ? `repeated ${encoding!.slice(0, -1)}` : (WIRE_TYPES[encoding!] ? encoding : `a ${encoding} message`)}`;
    if (wireType === 0) {
      if (varint(end) === undefined) return `${where}: the varint is cut off or over 10 bytes`;
    } else if (wireType === 1 || wireType === 5) {
      position += wireType === 1 ? 8 : 4;
      if (position > end) return `${where}: the value runs past the end of the ${message}`;
    } else {
      const length = varint(end);
      if (length === undefined || position + length > end) return `${where}: the length ${length ?? '(cut off)'} runs past the end of the ${message}`;
      if (encoding !== undefined && !WIRE_TYPES[encoding]) stack.push({ message: encoding, end: position + length });
      else position += length;
    }
  }
  return undefined;
}
