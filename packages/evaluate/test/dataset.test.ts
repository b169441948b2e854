import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readDataset } from '../src/index';

let folder: string;
beforeAll(() => {
  folder = mkdtempSync(join(tmpdir(), 'evaluate-'));
  for (const name of ['a.png', 'b.png', 'c.jpg']) writeFileSync(join(folder, name), 'x');
  mkdirSync(join(folder, 'det'));
  writeFileSync(join(folder, 'det', 'a.png'), 'x');
  writeFileSync(join(folder, 'det', 'labels.txt'), 'a.png\t[{"transcription":"GPU","points":[[1,2],[30,2],[30,12],[1,12]]}]\n');
});
afterAll(() => rmSync(folder, { recursive: true, force: true }));

describe('readDataset', () => {
  it('fidelity needs no labels: every image, sorted; limit keeps the first', () => {
    expect(readDataset(folder, 'fidelity').map((item) => item.file.slice(folder.length + 1))).toEqual(['a.png', 'b.png', 'c.jpg']);
    expect(readDataset(folder, 'fidelity', 2)).toHaveLength(2);
  });

  it('det labels become boxes', () => {
    const [item] = readDataset(join(folder, 'det'), 'ppocr-det');
    expect(item.boxes).toEqual([{ text: 'GPU', box: [1, 2, 30, 12] }]);
  });

  it('names the file and line of bad labels', () => {
    const bad = join(folder, 'bad');
    mkdirSync(bad);
    writeFileSync(join(bad, 'a.png'), 'x');
    writeFileSync(join(bad, 'labels.txt'), 'a.png\t0\nmissing.png\t180\n');
    expect(() => readDataset(bad, 'ppocr-cls')).toThrow(/labels\.txt:2: listed image 'missing\.png' does not exist/);
    writeFileSync(join(bad, 'labels.txt'), 'a.png\t90\n');
    expect(() => readDataset(bad, 'ppocr-cls')).toThrow(/labels\.txt:1: cls label must be 0 or 180/);
    writeFileSync(join(bad, 'labels.txt'), 'a.png no tab\n');
    expect(() => readDataset(bad, 'ppocr-rec')).toThrow(/labels\.txt:1: expected <file>\\t<label>/);
    writeFileSync(join(bad, 'labels.txt'), 'a.png\t[{"points": 3}]\n');
    expect(() => readDataset(bad, 'ppocr-det')).toThrow(/points/);
    expect(() => readDataset(folder, 'ppocr-rec')).toThrow(/needs labels/);
    expect(() => readDataset(join(folder, 'nope'), 'fidelity')).toThrow(/no such data folder/);
  });
});
