// Public API of @deprune/ocr: PP-OCR task helpers (pure functions over model outputs).
export { ppocrCharset, ctcGreedyDecode, CLS_LABELS } from './ctc';
export type { CtcDecoded } from './ctc';
