import { createCanvas } from '@napi-rs/canvas';
import opentype from 'opentype.js';
import { describe, expect, it } from 'vitest';
import { expectBoxesEncloseInk } from './det-ink';
import { DeprunError, UsageError } from '@deprune/errors';
import {
  assertDisjointSets,
  CALIBRATION_SOURCE,
  encodePng,
  FONT_COLLECTIONS,
  fontFiles,
  fontPath,
  generateClsSet,
  generateDetSet,
  generateRecSet,
  MissingFontError,
  pathCoverage,
  sourceRelation,
  TEXT_SOURCE_NAMES,
  TEXT_SOURCES,
  textSource,
  type RecSample,
  type TextSourceName,
} from '../src/index';

// Held out from the calibration source: no font file in common (the relation is tested below).
const filesOf = (name: TextSourceName) => fontFiles(FONT_COLLECTIONS[TEXT_SOURCES[name].fonts]);
const HELD_OUT = TEXT_SOURCE_NAMES.filter((name) => !filesOf(name).some((file) => filesOf(CALIBRATION_SOURCE).includes(file)));
const bytes = (samples: readonly { image: RecSample['image'] }[]) => samples.map((sample) => Buffer.from(encodePng(sample.image)));

describe('text sources', () => {
  it('there are at least two held-out sources, each with its own fonts; one of them another rasterizer', () => {
    expect(HELD_OUT.length).toBeGreaterThanOrEqual(2);
    const calibration = TEXT_SOURCES[CALIBRATION_SOURCE];
    for (const name of HELD_OUT) {
      expect(TEXT_SOURCES[name].fonts).not.toBe(calibration.fonts);
      expect(sourceRelation(CALIBRATION_SOURCE, name)).toBe('held-out');
    }
    expect(HELD_OUT.some((name) => TEXT_SOURCES[name].renderer !== calibration.renderer)).toBe(true);
    expect(sourceRelation(CALIBRATION_SOURCE, CALIBRATION_SOURCE)).toBe('same-source');
    // Every source in the calibration fonts is same-source to it, whatever its style.
    for (const name of TEXT_SOURCE_NAMES.filter((other) => !HELD_OUT.includes(other))) expect(sourceRelation(CALIBRATION_SOURCE, name)).toBe('same-source');
    // Sharing one font file is enough to be same-source: DejaVu is in both DejaVu sources and in mixed-varied.
    expect(sourceRelation('mixed-varied', 'dejavu-skia')).toBe('same-source');
    expect(sourceRelation('dejavu-varied', 'mixed-varied')).toBe('same-source');
    expect(sourceRelation('mixed-varied', 'liberation-skia')).toBe('held-out');
    // A font is its file, whichever package ships it: DejaVu from apt is the DejaVu of npm.
    expect(fontFiles(FONT_COLLECTIONS.mixed)).toContain('roboto-latin-400-normal.woff2');
    const aptCopy = { name: 'freefont' as const, origin: { kind: 'apt' as const, package: 'fonts-dejavu-core' }, faces: [{ family: 'DejaVu Sans', file: 'DejaVuSans.ttf' }] };
    expect(fontFiles(FONT_COLLECTIONS.mixed)).toContain(fontFiles(aptCopy)[0]);
    // Another rasterizer over the calibration fonts is not held out: the glyph shapes are the same.
    const dejavuOutline = { ...TEXT_SOURCES['freefont-outline'], name: 'dejavu-outline' as never, fonts: 'dejavu' as const };
    expect(sourceRelation(CALIBRATION_SOURCE, dejavuOutline)).toBe('same-source');
    expect(sourceRelation(dejavuOutline, 'liberation-skia')).toBe('held-out');
  });

  it.each(TEXT_SOURCE_NAMES.filter((name) => name !== 'dejavu-skia'))('%s: the same seed gives the same bytes and labels, another seed other ones', (source) => {
    const a = generateRecSet(4, 11, { source });
    const b = generateRecSet(4, 11, { source });
    const c = generateRecSet(4, 12, { source });
    expect(a.map((sample) => sample.text)).toEqual(b.map((sample) => sample.text));
    const [bytesA, bytesB] = [bytes(a), bytes(b)];
    bytesA.forEach((png, index) => expect(png.equals(bytesB[index])).toBe(true));
    expect(c.map((sample) => sample.text)).not.toEqual(a.map((sample) => sample.text));
    const [clsA, clsB] = [generateClsSet(6, 11, { source }), generateClsSet(6, 11, { source })];
    expect(clsA.map((sample) => sample.label)).toEqual(clsB.map((sample) => sample.label));
    expect(Buffer.concat(bytes(clsA)).equals(Buffer.concat(bytes(clsB)))).toBe(true);
    const [detA, detB] = [generateDetSet(1, 11, { source }), generateDetSet(1, 11, { source })];
    expect(detA[0].boxes).toEqual(detB[0].boxes);
    expect(bytes(detA)[0].equals(bytes(detB)[0])).toBe(true);
  });

  it('different sources give different images for the same seed', () => {
    const rendered = TEXT_SOURCE_NAMES.map((source) => Buffer.concat(bytes(generateRecSet(3, 5, { source }))));
    for (let i = 0; i < rendered.length; i++) for (let j = i + 1; j < rendered.length; j++) expect(rendered[i].equals(rendered[j])).toBe(false);
    // The same text drawn by two sources differs too (not only the word sequence).
    const scenes = TEXT_SOURCE_NAMES.map((source) => generateDetSet(1, 5, { source })[0].image.data);
    expect(Buffer.from(scenes[0]).equals(Buffer.from(scenes[1]))).toBe(false);
  });

  it.each(HELD_OUT)('%s: rec lines keep to the source style: length, aspect, dark ink on light ground', (source) => {
    const style = TEXT_SOURCES[source].rec;
    const samples = generateRecSet(12, 3, { source });
    for (const { image, text } of samples) {
      expect(text.length).toBeGreaterThanOrEqual(style.chars[0]);
      expect(text.length).toBeLessThanOrEqual(style.chars[1]);
      expect(image.width / image.height).toBeLessThanOrEqual(style.maxAspect);
      const values = Array.from(image.data);
      expect(Math.min(...values)).toBeLessThan(110);
      expect(values.filter((value) => value > 170).length).toBeGreaterThan(values.length / 2);
    }
    // Lines of different lengths: some short, some longer than the calibration source's 18 characters.
    const lengths = samples.map((sample) => sample.text.length);
    expect(Math.max(...lengths) - Math.min(...lengths)).toBeGreaterThanOrEqual(6);
  });

  it.each(HELD_OUT)('%s: det boxes enclose the ink and hold ink', (source) => {
    for (const scene of generateDetSet(2, 4, { source })) expectBoxesEncloseInk(scene);
  });

  it.each(HELD_OUT)('%s: cls turns about half of the lines', (source) => {
    const labels = generateClsSet(30, 3, { source }).map((sample) => sample.label);
    expect(labels.filter((label) => label === '180').length).toBeGreaterThan(7);
    expect(labels.filter((label) => label === '0').length).toBeGreaterThan(7);
  });

  it('refuses an evaluation set that is the calibration set; allows another seed or source', () => {
    expect(() => assertDisjointSets({ source: 'dejavu-skia', seed: 7 }, { source: 'dejavu-skia', seed: 7, name: 'same' })).toThrow(UsageError);
    expect(() => assertDisjointSets({ source: 'dejavu-skia', seed: 7 }, { source: 'dejavu-skia', seed: 7 })).toThrow(/is the calibration set itself/);
    expect(() => assertDisjointSets({ source: 'dejavu-skia', seed: 7 }, { source: 'dejavu-skia', seed: 8 })).not.toThrow();
    expect(() => assertDisjointSets({ source: 'dejavu-skia', seed: 7 }, { source: 'freefont-outline', seed: 7 })).not.toThrow();
  });

  it('an unknown source is a typed error with a did-you-mean', () => {
    expect(() => textSource('liberation-skai')).toThrow(/unknown text source 'liberation-skai'.*did you mean 'liberation-skia'/);
    expect(() => generateRecSet(1, 1, { source: 'nope' as never })).toThrow(UsageError);
  });

  it('a font file that is not installed names its apt package', () => {
    const collection = { name: 'freefont' as const, origin: { kind: 'apt' as const, package: 'fonts-not-a-package' }, faces: [] };
    let caught: unknown;
    try {
      fontPath(collection, { family: 'X', file: 'X.ttf' });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(MissingFontError);
    expect(caught).toBeInstanceOf(DeprunError);
    expect((caught as MissingFontError).code).toBe('FILE_NOT_FOUND');
    expect((caught as Error).message).toMatch(/apt-get install fonts-not-a-package/);
  });
});

describe('mixed-varied fonts', () => {
  it('draws every face in its own design, not in a fallback font', () => {
    const faces = FONT_COLLECTIONS.mixed.faces;
    const families = new Set(faces.map((face) => face.family.replace(/ (Bold|Italic|Black)$/, '')));
    expect(families.size).toBeGreaterThanOrEqual(9);
    // Every face's file resolves (npm packages of the workspace); Skia loads each one (renderSkiaLine refuses otherwise).
    for (const face of faces) expect(fontPath(FONT_COLLECTIONS.mixed, face)).toMatch(/\.(ttf|woff2)$/);
    // Drawing a set registers the faces with Skia; then no two draw the same pixels, nor the fallback's.
    expect(generateRecSet(2, 21, { source: 'mixed-varied' })).toHaveLength(2);
    const glyphs = faces.map((face) => {
      const context = createCanvas(480, 56).getContext('2d');
      context.font = `40px "${face.family}"`;
      context.fillText('Hamburgefonstiv 0123', 4, 44);
      return Buffer.from(context.getImageData(0, 0, 480, 56).data).toString('base64');
    });
    const fallback = createCanvas(480, 56).getContext('2d');
    fallback.font = '40px "Not A Font Family"';
    fallback.fillText('Hamburgefonstiv 0123', 4, 44);
    expect(glyphs).not.toContain(Buffer.from(fallback.getImageData(0, 0, 480, 56).data).toString('base64'));
    expect(new Set(glyphs).size).toBe(faces.length);
  });

  it('a face from an npm package that is not installed names the package', () => {
    const collection = { name: 'mixed' as const, origin: { kind: 'npm' as const, package: 'dejavu-fonts-ttf' }, faces: [] };
    expect(() => fontPath(collection, { family: 'X', file: 'files/x.woff2', npmPackage: '@fontsource/not-a-package' })).toThrow(/install the npm package @fontsource\/not-a-package/);
    expect(() => fontPath(collection, { family: 'X', file: 'files/missing.woff2', npmPackage: '@fontsource/roboto' })).toThrow(MissingFontError);
  });
});

describe('outline rasterizer', () => {
  const square = (path: opentype.Path, x: number, y: number, size: number, clockwise: boolean) => {
    path.moveTo(x, y);
    if (clockwise) {
      path.lineTo(x + size, y);
      path.lineTo(x + size, y + size);
      path.lineTo(x, y + size);
    } else {
      path.lineTo(x, y + size);
      path.lineTo(x + size, y + size);
      path.lineTo(x + size, y);
    }
    path.close();
  };

  it('covers exactly the area of a square at a fractional position', () => {
    const path = new opentype.Path();
    square(path, 2.3, 3.5, 10, true);
    const coverage = pathCoverage(path, 20, 20);
    expect(coverage.reduce((sum, value) => sum + value, 0)).toBeCloseTo(100, 4);
    expect(coverage[8 * 20 + 8]).toBeCloseTo(1, 6);
    // The left edge at x = 2.3 covers 70 % of column 2; row 3's top half is outside.
    expect(coverage[8 * 20 + 2]).toBeCloseTo(0.7, 5);
    expect(coverage[3 * 20 + 8]).toBeCloseTo(0.5, 5);
    expect(coverage[0]).toBe(0);
  });

  it('leaves a counter-wound hole empty (non-zero winding), fills a same-wound overlap once', () => {
    const ring = new opentype.Path();
    square(ring, 0, 0, 12, true);
    square(ring, 4, 4, 4, false);
    const holed = pathCoverage(ring, 12, 12);
    expect(holed.reduce((sum, value) => sum + value, 0)).toBeCloseTo(144 - 16, 4);
    expect(holed[6 * 12 + 6]).toBe(0);
    const overlap = new opentype.Path();
    square(overlap, 0, 0, 12, true);
    square(overlap, 4, 4, 4, true);
    expect(pathCoverage(overlap, 12, 12).reduce((sum, value) => sum + value, 0)).toBeCloseTo(144, 4);
  });
});
