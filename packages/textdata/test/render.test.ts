import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readImage } from '@deprune/images/node';
import { describe, expect, it } from 'vitest';
import { expectBoxesEncloseInk } from './det-ink';
import { encodePng, generateClsSet, generateDetSet, generateRecSet, generateSet, writeDataset } from '../src/index';

describe('rendered datasets', () => {
  it('are deterministic in the seed and differ between seeds', () => {
    const a = generateRecSet(3, 7);
    const b = generateRecSet(3, 7);
    const c = generateRecSet(3, 8);
    expect(a.map((sample) => sample.text)).toEqual(b.map((sample) => sample.text));
    a.forEach((sample, index) => expect(Buffer.from(encodePng(sample.image)).equals(Buffer.from(encodePng(b[index].image)))).toBe(true));
    expect(a.map((sample) => sample.text)).not.toEqual(c.map((sample) => sample.text));
  });

  it('rec lines hold dark ink on a light background and fit a 48 x 320 input', () => {
    for (const { image, text } of generateRecSet(5, 2)) {
      expect(image.width / image.height).toBeLessThanOrEqual(6.5);
      const values = Array.from(image.data);
      expect(Math.min(...values)).toBeLessThan(100);
      expect(values.filter((value) => value > 180).length).toBeGreaterThan(values.length / 2);
      expect(text.length).toBeGreaterThan(1);
    }
  });

  it('cls flips about half of the lines', () => {
    const labels = generateClsSet(40, 3).map((sample) => sample.label);
    expect(labels.filter((label) => label === '180').length).toBeGreaterThan(10);
    expect(labels.filter((label) => label === '0').length).toBeGreaterThan(10);
  });

  it('det boxes enclose the ink: dark pixels inside every box, none outside all boxes', () => {
    for (const scene of generateDetSet(2, 4)) expectBoxesEncloseInk(scene);
  });

  it('writes PNGs and a PaddleOCR label file; refuses a folder that is not empty', () => {
    const folder = mkdtempSync(join(tmpdir(), 'textdata-'));
    try {
      const samples = generateDetSet(1, 5);
      writeDataset(join(folder, 'det'), 'det', samples);
      const [line] = readFileSync(join(folder, 'det', 'labels.txt'), 'utf8').trim().split('\n');
      const [file, json] = line.split('\t');
      expect(file).toBe('det_0000.png');
      expect(JSON.parse(json)[0]).toEqual({ transcription: samples[0].boxes[0].text, points: samples[0].boxes[0].points });
      expect(readImage(join(folder, 'det', file)).width).toBe(320);
      expect(() => writeDataset(join(folder, 'det'), 'det', samples)).toThrow(/not empty/);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});

describe('generateSet', () => {
  it('is the set function of its kind', () => {
    const text = (samples: readonly { name: string }[]) => samples.map((sample) => sample.name);
    expect((generateSet('rec', 2, 5, { source: 'dejavu-varied' }) as ReturnType<typeof generateRecSet>).map((sample) => sample.text)).toEqual(generateRecSet(2, 5, { source: 'dejavu-varied' }).map((sample) => sample.text));
    expect((generateSet('cls', 6, 5) as ReturnType<typeof generateClsSet>).map((sample) => sample.label)).toEqual(generateClsSet(6, 5).map((sample) => sample.label));
    expect(text(generateSet('det', 1, 5))).toEqual(text(generateDetSet(1, 5)));
    expect((generateSet('det', 1, 5) as ReturnType<typeof generateDetSet>)[0].boxes).toEqual(generateDetSet(1, 5)[0].boxes);
  });
});

describe('the CommonJS build', () => {
  it('finds the npm fonts and renders (createRequire(import.meta.url) needs the CJS shim)', async () => {
    const { createRequire } = await import('node:module');
    const cjs = createRequire(import.meta.url)('../dist/index.cjs') as typeof import('../src/index');
    const [line] = cjs.generateRecSet(1, 3, { source: 'dejavu-varied' });
    expect(line.text.length).toBeGreaterThan(0);
    expect(line.image.width).toBeGreaterThan(line.image.height);
  });
});
