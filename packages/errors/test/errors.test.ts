import { describe, expect, it } from 'vitest';
import { DeprunError, ModelFileError, UnsafePathError, UsageError, closestName, isDeprunError } from '../src/index';

describe('DeprunError', () => {
  it('names the file and node and appends the hint', () => {
    const error = new ModelFileError('INVALID_MODEL', 'truncated protobuf', {
      file: 'm.onnx',
      node: 'conv_1',
      hint: 'export the model again',
    });
    expect(error.message).toBe("m.onnx: node 'conv_1': truncated protobuf (export the model again)");
    expect(error.code).toBe('INVALID_MODEL');
    expect(error.name).toBe('ModelFileError');
    expect(error.exitCode).toBe(2);
    expect(isDeprunError(error)).toBe(true);
    expect(error).toBeInstanceOf(DeprunError);
  });

  it('maps internal failures to exit 1 and user errors to exit 2', () => {
    expect(new DeprunError('INTERNAL', 'boom').exitCode).toBe(1);
    expect(new UsageError('unknown flag --x').exitCode).toBe(2);
    expect(new UnsafePathError('escapes', { file: '../x.bin' }).code).toBe('UNSAFE_PATH');
  });

  it('keeps the cause for --verbose', () => {
    const cause = new Error('inner');
    expect(new UsageError('outer', { cause }).cause).toBe(cause);
    expect(isDeprunError(cause)).toBe(false);
  });
});

describe('closestName', () => {
  it('suggests the nearest candidate within two edits, ignoring case', () => {
    expect(closestName('deprune-hb', ['deprune', 'deprune-b', 'deprune-bh'])).toBe('deprune-b');
    expect(closestName('INSPECT', ['inspect', 'prune'])).toBe('inspect');
    expect(closestName('benchmark', ['inspect', 'prune'])).toBeUndefined();
  });
});
