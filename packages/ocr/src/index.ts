// Public API of @deprune/ocr: PP-OCR task helpers (pure functions over model outputs).
export { ppocrCharset, ctcGreedyDecode, CLS_LABELS } from './ctc';
export type { CtcDecoded } from './ctc';
export { dbBoxes, boxIou, matchBoxes, editDistance } from './db';
export type { DbOptions, DetectedBox } from './db';
