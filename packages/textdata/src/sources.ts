import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { closestName, DeprunError, UsageError } from '@deprune/errors';

/**
 * Named sources of rendered text. A source is one renderer with one font collection and its own
 * sizes and line lengths. Sets drawn from different sources share neither fonts nor (for the
 * outline source) rasterizer, so a model calibrated on one source and evaluated on another is
 * judged on images the calibration could not have seen: issue 17 found that an evaluation set from
 * the calibration's own renderer hid two thirds of the accuracy drop.
 */

export type TextSourceName = 'dejavu-skia' | 'dejavu-varied' | 'mixed-varied' | 'liberation-skia' | 'freefont-outline';
export type RendererName = 'skia' | 'outline';
export type FontCollectionName = 'dejavu' | 'mixed' | 'liberation' | 'freefont';

export interface FontFace {
  /** The name the face is registered under (Skia) or looked up by (outline). */
  family: string;
  /** The file's name: in the apt package's folder, or in the npm package's `ttf/` folder. */
  file: string;
  /** A face from another npm package than its collection's: that package, `file` relative to its root. */
  npmPackage?: string;
}

export interface FontCollection {
  name: FontCollectionName;
  /** Where the files come from: an npm package or a Debian apt package. */
  origin: { kind: 'npm' | 'apt'; package: string };
  faces: readonly FontFace[];
}

export interface TextStyle {
  /** Font size range in pixels, inclusive. */
  sizes: readonly [number, number];
  /** Tokens per line, inclusive range. */
  tokens: readonly [number, number];
  /** Characters per line, inclusive range. */
  chars: readonly [number, number];
  /** Widest rec line as width / height (PP-OCR rec widens its input past 320 for wider ones). */
  maxAspect: number;
}

export interface TextSource {
  name: TextSourceName;
  renderer: RendererName;
  fonts: FontCollectionName;
  /** Rec lines (cls uses the same fonts and sizes with at most 14 characters, aspect 4). */
  rec: TextStyle;
  /** Det scenes' font sizes in pixels. */
  detSizes: readonly [number, number];
  /** One line saying what is different about this source's images. */
  description: string;
}

/** The DejaVu faces (npm dejavu-fonts-ttf): the `dejavu` collection, and part of `mixed`. */
const DEJAVU_FACES: readonly FontFace[] = [
  { family: 'DejaVu Sans', file: 'DejaVuSans.ttf' },
  { family: 'DejaVu Sans Bold', file: 'DejaVuSans-Bold.ttf' },
  { family: 'DejaVu Sans Condensed', file: 'DejaVuSansCondensed.ttf' },
  { family: 'DejaVu Sans Mono', file: 'DejaVuSansMono.ttf' },
  { family: 'DejaVu Serif', file: 'DejaVuSerif.ttf' },
  { family: 'DejaVu Serif Bold', file: 'DejaVuSerif-Bold.ttf' },
];

/** A face of an @fontsource npm package: its Latin subset in one weight and style (a WOFF2 file Skia reads). */
function fontsource(name: string, family: string, weightStyle: string): FontFace {
  return { family, npmPackage: `@fontsource/${name}`, file: `files/${name}-latin-${weightStyle}.woff2` };
}

export const FONT_COLLECTIONS: Readonly<Record<FontCollectionName, FontCollection>> = {
  dejavu: {
    name: 'dejavu',
    origin: { kind: 'npm', package: 'dejavu-fonts-ttf' },
    faces: DEJAVU_FACES,
  },
  mixed: {
    name: 'mixed',
    origin: { kind: 'npm', package: 'dejavu-fonts-ttf' },
    // DejaVu and nine other families from npm (@fontsource, Latin subset): sans, serif,
    // condensed and monospaced designs in regular, bold and italic. None of them is a Liberation
    // or FreeFont face nor a metric clone of one (Arimo, Tinos, Cousine and the URW Nimbus /
    // TeX Gyre families are left out on purpose), so both held-out sources stay held out by font.
    faces: [
      ...DEJAVU_FACES,
      fontsource('roboto', 'Roboto', '400-normal'),
      fontsource('roboto', 'Roboto Bold', '700-normal'),
      fontsource('roboto-condensed', 'Roboto Condensed', '400-normal'),
      fontsource('open-sans', 'Open Sans', '400-normal'),
      fontsource('open-sans', 'Open Sans Italic', '400-italic'),
      fontsource('lato', 'Lato', '400-normal'),
      fontsource('lato', 'Lato Black', '900-normal'),
      fontsource('noto-serif', 'Noto Serif', '400-normal'),
      fontsource('noto-serif', 'Noto Serif Bold', '700-normal'),
      fontsource('pt-serif', 'PT Serif', '400-normal'),
      fontsource('pt-serif', 'PT Serif Italic', '400-italic'),
      fontsource('merriweather', 'Merriweather', '400-normal'),
      fontsource('source-code-pro', 'Source Code Pro', '400-normal'),
      fontsource('ibm-plex-mono', 'IBM Plex Mono', '400-normal'),
      fontsource('ibm-plex-mono', 'IBM Plex Mono Bold', '700-normal'),
    ],
  },
  liberation: {
    name: 'liberation',
    origin: { kind: 'apt', package: 'fonts-liberation' },
    faces: [
      { family: 'Liberation Sans', file: 'LiberationSans-Regular.ttf' },
      { family: 'Liberation Sans Bold', file: 'LiberationSans-Bold.ttf' },
      { family: 'Liberation Sans Narrow', file: 'LiberationSansNarrow-Regular.ttf' },
      { family: 'Liberation Serif', file: 'LiberationSerif-Regular.ttf' },
      { family: 'Liberation Serif Italic', file: 'LiberationSerif-Italic.ttf' },
      { family: 'Liberation Mono', file: 'LiberationMono-Regular.ttf' },
    ],
  },
  freefont: {
    name: 'freefont',
    origin: { kind: 'apt', package: 'fonts-freefont-ttf' },
    faces: [
      { family: 'FreeSans', file: 'FreeSans.ttf' },
      { family: 'FreeSans Bold', file: 'FreeSansBold.ttf' },
      { family: 'FreeSerif', file: 'FreeSerif.ttf' },
      { family: 'FreeSerif Italic', file: 'FreeSerifItalic.ttf' },
      { family: 'FreeMono', file: 'FreeMono.ttf' },
      { family: 'FreeMono Bold', file: 'FreeMonoBold.ttf' },
    ],
  },
};

/** The sizes and line lengths of the varied calibration sources (`dejavu-varied`, `mixed-varied`). */
const VARIED_STYLE: Pick<TextSource, 'rec' | 'detSizes'> = {
  rec: { sizes: [18, 56], tokens: [1, 5], chars: [2, 30], maxAspect: 11 },
  detSizes: [14, 40],
};

export const TEXT_SOURCES: Readonly<Record<TextSourceName, TextSource>> = {
  'dejavu-skia': {
    name: 'dejavu-skia',
    renderer: 'skia',
    fonts: 'dejavu',
    rec: { sizes: [28, 40], tokens: [1, 3], chars: [2, 18], maxAspect: 6.5 },
    detSizes: [18, 36],
    description: 'Skia (@napi-rs/canvas), DejaVu (npm dejavu-fonts-ttf), 28-40 px, 1-3 tokens up to 18 characters, tinted light background',
  },
  'dejavu-varied': {
    name: 'dejavu-varied',
    renderer: 'skia',
    fonts: 'dejavu',
    // The calibration fonts in every style the held-out sources use (small to large type, short
    // to long lines, coloured ink, gradient background, a slight turn): calibration statistics
    // that cover sizes and layouts, without the held-out sets' fonts or rasterizer.
    ...VARIED_STYLE,
    description: 'Skia (@napi-rs/canvas), DejaVu (npm dejavu-fonts-ttf), 18-56 px, 1-5 tokens up to 30 characters, rotated up to 1.5 degrees, coloured ink, gradient background',
  },
  'mixed-varied': {
    name: 'mixed-varied',
    renderer: 'skia',
    fonts: 'mixed',
    // dejavu-varied's styles over ten font families instead of one: glyph shapes are what a
    // calibration set's statistics latch onto most, so more designs stand for unseen fonts better.
    ...VARIED_STYLE,
    description:
      'Skia (@napi-rs/canvas), DejaVu and Roboto, Roboto Condensed, Open Sans, Lato, Noto Serif, PT Serif, Merriweather, Source Code Pro, IBM Plex Mono (npm), 18-56 px, 1-5 tokens up to 30 characters, rotated up to 1.5 degrees, coloured ink, gradient background',
  },
  'liberation-skia': {
    name: 'liberation-skia',
    renderer: 'skia',
    fonts: 'liberation',
    // Smaller type than the calibration source (the rec input upsamples it to 48 px) and longer
    // lines (wider than 320 at 48 px high), slightly rotated, coloured ink.
    rec: { sizes: [18, 27], tokens: [1, 5], chars: [2, 30], maxAspect: 11 },
    detSizes: [14, 26],
    description: 'Skia (@napi-rs/canvas), Liberation Sans/Narrow/Serif/Mono (apt fonts-liberation), 18-27 px, 1-5 tokens up to 30 characters, rotated up to 1.5 degrees, coloured ink',
  },
  'freefont-outline': {
    name: 'freefont-outline',
    renderer: 'outline',
    fonts: 'freefont',
    // Larger type than the calibration source (downsampled to 48 px), short to medium lines.
    rec: { sizes: [42, 56], tokens: [1, 4], chars: [2, 24], maxAspect: 9 },
    detSizes: [24, 40],
    description:
      'own outline rasterizer (opentype.js glyph outlines, no hinting, exact horizontal coverage x 4 sub-scanlines, blending in linear light), FreeSans/Serif/Mono (apt fonts-freefont-ttf), 42-56 px, 1-4 tokens up to 24 characters, sensor noise and sometimes a blur',
  },
};

export const TEXT_SOURCE_NAMES = Object.keys(TEXT_SOURCES) as TextSourceName[];

/**
 * The source calibration sets are drawn from by default (`deprune prune` of a bundled PP-OCR model,
 * the demo, the accuracy suite): ten font families in varied sizes, layouts and colours. Glyph
 * shapes are what the statistics latch onto: against `dejavu-varied` (one family, the same
 * styles), PP-OCRv4 rec at DEPrune-BH r = 0.7 reads 88.2% of the held-out lines instead of 81.7%
 * (mean over three calibration sets of 32; dense 98.5%; docs/benchmarks/accuracy/). Thirty
 * families read the same as ten (87.5%), so the collection stays at ten.
 */
export const CALIBRATION_SOURCE: TextSourceName = 'mixed-varied';

/** The source named `name`; a typed error with a "did you mean" for anything else. */
export function textSource(name: string): TextSource {
  if ((TEXT_SOURCE_NAMES as string[]).includes(name)) return TEXT_SOURCES[name as TextSourceName];
  const guess = closestName(name, TEXT_SOURCE_NAMES);
  throw new UsageError(`unknown text source '${name}'`, { hint: `${guess ? `did you mean '${guess}'? ` : ''}choose one of ${TEXT_SOURCE_NAMES.join(', ')}` });
}

/**
 * How an evaluation source stands to a calibration source: `same-source` when it is the same
 * source or shares a font file with it (glyph shapes are what a model's statistics latch onto
 * most), `held-out` otherwise. Two Skia sources with different font collections are held out by font; the outline
 * source is held out by both renderer and fonts. Takes names or source descriptions (a source
 * being designed can be checked against the calibration source before it is registered).
 */
export function sourceRelation(calibration: TextSourceName | TextSource, evaluation: TextSourceName | TextSource): 'same-source' | 'held-out' {
  const a = typeof calibration === 'string' ? textSource(calibration) : calibration;
  const b = typeof evaluation === 'string' ? textSource(evaluation) : evaluation;
  if (a.name === b.name || a.fonts === b.fonts) return 'same-source';
  const calibrationFiles = new Set(fontFiles(FONT_COLLECTIONS[a.fonts]));
  return fontFiles(FONT_COLLECTIONS[b.fonts]).some((file) => calibrationFiles.has(file)) ? 'same-source' : 'held-out';
}

/**
 * A collection's font files by file name alone, whichever package ships them: the same file from
 * another package (DejaVuSans.ttf from npm or from apt) is the same font, so a set drawn in it is
 * never called held out. Two different fonts that happened to share a file name would be called
 * same-source: the cautious side.
 */
export function fontFiles(collection: FontCollection): string[] {
  return collection.faces.map((face) => basename(face.file));
}

/**
 * Refuses an evaluation set that IS the calibration set (same source and seed): scoring a model on
 * the very images its statistics came from. A same-source set with another seed is allowed (it is
 * reported as same-source, apart from the held-out sets).
 */
export function assertDisjointSets(calibration: { source: TextSourceName; seed: number }, evaluation: { source: TextSourceName; seed: number; name?: string }): void {
  if (calibration.source === evaluation.source && calibration.seed === evaluation.seed) {
    throw new UsageError(`evaluation set '${evaluation.name ?? evaluation.source}' is the calibration set itself (source ${calibration.source}, seed ${calibration.seed})`, {
      hint: 'use another evaluation seed or, better, a held-out source',
    });
  }
}

/** A font file that is not installed: names the file and the package that provides it. */
export class MissingFontError extends DeprunError {
  readonly package: string;
  constructor(file: string, origin: FontCollection['origin']) {
    super('FILE_NOT_FOUND', `font file ${file} is not installed`, {
      file,
      hint: origin.kind === 'apt' ? `install the Debian package: apt-get install ${origin.package}` : `install the npm package ${origin.package}`,
    });
    this.package = origin.package;
  }
}

/** Debian puts each font package's TTFs here (fonts-liberation2 ships the same faces under liberation2). */
const APT_FOLDERS: Readonly<Record<string, readonly string[]>> = {
  'fonts-liberation': ['/usr/share/fonts/truetype/liberation', '/usr/share/fonts/truetype/liberation2'],
  'fonts-freefont-ttf': ['/usr/share/fonts/truetype/freefont'],
};

/** Absolute path of a face's file; MissingFontError when its package is not installed. */
export function fontPath(collection: FontCollection, face: FontFace): string {
  if (face.npmPackage !== undefined || collection.origin.kind === 'npm') {
    const origin = face.npmPackage === undefined ? collection.origin : { kind: 'npm' as const, package: face.npmPackage };
    let root: string;
    try {
      root = dirname(createRequire(import.meta.url).resolve(`${origin.package}/package.json`));
    } catch {
      throw new MissingFontError(`${origin.package}/${face.file}`, origin);
    }
    const path = face.npmPackage === undefined ? join(root, 'ttf', face.file) : join(root, face.file);
    if (!existsSync(path)) throw new MissingFontError(path, origin);
    return path;
  }
  const folders = APT_FOLDERS[collection.origin.package] ?? [];
  for (const folder of folders) {
    const path = join(folder, face.file);
    if (existsSync(path)) return path;
  }
  throw new MissingFontError(join(folders[0] ?? '/usr/share/fonts', face.file), collection.origin);
}

/**
 * The seed a source's generator starts from. `dejavu-skia`, the first source, keeps the seed as
 * given (its sets are the ones earlier reports used); the others mix in the source's name so that
 * the same seed does not replay the same word sequence in every source.
 */
export function sourceSeed(source: TextSourceName, seed: number): number {
  if (source === 'dejavu-skia') return seed;
  let hash = 0x811c9dc5;
  for (const char of source) hash = Math.imul(hash ^ char.charCodeAt(0), 0x01000193) >>> 0;
  return (seed ^ hash) >>> 0;
}
