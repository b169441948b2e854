// Public API of @deprune/textdata: labelled text images for PP-OCR accuracy checks, rendered with real fonts.
export { generateRecSet, generateClsSet, generateDetSet, renderLine, randomLineText, FONT_FAMILIES } from './render';
export type { RecSample, ClsSample, DetSample, TextBox, TextLine } from './render';
export { writeDataset, encodePng, labelLine, LABEL_FILE } from './write';
export type { DatasetKind } from './write';
export { WORDS, numberToken } from './words';
