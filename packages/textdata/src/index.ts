// Public API of @deprune/textdata: labelled text images for PP-OCR accuracy checks, rendered with real fonts.
export { generateRecSet, generateClsSet, generateDetSet, generateSet, renderLine, renderSourceLine, randomLineText, FONT_FAMILIES } from './render';
export type { RecSample, ClsSample, DetSample, TextBox, TextLine, SetOptions, RecOptions, DetOptions } from './render';
export {
  TEXT_SOURCES,
  TEXT_SOURCE_NAMES,
  FONT_COLLECTIONS,
  CALIBRATION_SOURCE,
  textSource,
  sourceRelation,
  assertDisjointSets,
  fontPath,
  fontFiles,
  sourceSeed,
  MissingFontError,
} from './sources';
export type { TextSource, TextSourceName, TextStyle, RendererName, FontCollection, FontCollectionName, FontFace } from './sources';
export { pathCoverage } from './outline';
export { writeDataset, encodePng, labelLine, LABEL_FILE } from './write';
export type { DatasetKind } from './write';
export { WORDS, numberToken } from './words';
