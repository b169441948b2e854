import { ShapeError, UsageError } from '@deprune/errors';

/**
 * PP-OCR recognition output -> text. The rec model emits, per time step, a probability over
 * `blank + the key file's characters + space` (PaddleOCR's CTCLabelDecode with use_space_char):
 * greedy decoding takes the best class per step, merges repeats and drops blanks.
 */

/** The class list of a PP-OCR rec model: index 0 is the CTC blank, then one entry per key-file line, then ' '. */
export function ppocrCharset(keysText: string): string[] {
  const lines = keysText.split(/\r?\n/);
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  if (lines.length === 0) throw new UsageError('the key file is empty', { hint: "pass PaddleOCR's ppocr_keys_v1.txt (one character per line)" });
  return ['', ...lines, ' '];
}

export interface CtcDecoded {
  text: string;
  /** Mean probability of the emitted characters (1 when none were emitted). */
  confidence: number;
}

/** Greedy CTC decode of `[1, T, C]` (or `[T, C]`) class scores; `charset.length` must equal C. */
export function ctcGreedyDecode(scores: ArrayLike<number>, shape: readonly number[], charset: readonly string[]): CtcDecoded {
  const [steps, classes] = shape.length === 3 && shape[0] === 1 ? [shape[1], shape[2]] : shape.length === 2 ? [shape[0], shape[1]] : [NaN, NaN];
  if (!Number.isInteger(steps) || !Number.isInteger(classes)) throw new ShapeError(`CTC decoding needs scores of shape [1, T, C] or [T, C], got [${shape.join(', ')}]`);
  if (classes !== charset.length) {
    throw new ShapeError(`the model scores ${classes} classes but the charset has ${charset.length} (blank + keys + space)`, { hint: 'use the key file that came with the model' });
  }
  let text = '';
  let previous = -1;
  let total = 0;
  let emitted = 0;
  for (let step = 0; step < steps; step++) {
    let best = 0;
    for (let c = 1; c < classes; c++) if (scores[step * classes + c] > scores[step * classes + best]) best = c;
    if (best !== 0 && best !== previous) {
      text += charset[best];
      total += scores[step * classes + best];
      emitted += 1;
    }
    previous = best;
  }
  return { text, confidence: emitted === 0 ? 1 : total / emitted };
}

/** The text-direction classifier's classes (ppocr mobile v2.0 cls): upright and upside down. */
export const CLS_LABELS = ['0', '180'] as const;
