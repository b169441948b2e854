/**
 * The vocabulary of rendered lines: common English words, product and technical words, and number
 * patterns. Every character is in PaddleOCR's ppocr_keys_v1.txt (ASCII letters, digits and the
 * punctuation used here), so a PP-OCR rec model can, in principle, read every line.
 */
export const WORDS: readonly string[] = (
  'the of and to in is for on with as by at from that this be are or was it an not have all new more ' +
  'time data model image text line page price total open close sale free order item size color paper ' +
  'water power light train road city north south east west market street coffee house table garden ' +
  'pruning sparse dense kernel tensor matrix layer channel filter stride depth width height batch ' +
  'GPU CPU RAM USB WiFi Node ONNX Paddle OCR Skia TypeScript JSON HTML API SDK HTTP ' +
  'Monday Friday January March October Total Amount Invoice Receipt Station Exit Entrance Parking ' +
  'Hello World Welcome Thank you Please Office Hotel Airport Museum Library Hospital School Bank ' +
  'quick brown fox jumps over lazy dog zebra quartz vexing jackdaws sphinx black quiz'
).split(/\s+/);

/** Number-like tokens: prices, dates, times, codes, percentages. */
export function numberToken(next: () => number): string {
  const digits = (count: number) => Array.from({ length: count }, () => Math.floor(next() * 10)).join('');
  switch (Math.floor(next() * 6)) {
    case 0:
      return `${digits(1 + Math.floor(next() * 3))}.${digits(2)}`;
    case 1:
      return `20${digits(2)}-${String(1 + Math.floor(next() * 12)).padStart(2, '0')}-${String(1 + Math.floor(next() * 28)).padStart(2, '0')}`;
    case 2:
      return `${String(Math.floor(next() * 24)).padStart(2, '0')}:${String(Math.floor(next() * 60)).padStart(2, '0')}`;
    case 3:
      return `${digits(2 + Math.floor(next() * 4))}`;
    case 4:
      return `${Math.floor(next() * 100)}%`;
    default:
      return `No.${digits(3)}`;
  }
}
