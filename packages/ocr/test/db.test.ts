import { describe, expect, it } from 'vitest';
import { boxIou, dbBoxes, editDistance, matchBoxes } from '../src/index';

describe('DB post-processing', () => {
  it('finds each confident region, grows it by the unclip distance, drops weak and tiny ones', () => {
    const width = 40;
    const height = 20;
    const map = new Float32Array(width * height);
    const fill = (x0: number, y0: number, x1: number, y1: number, value: number) => {
      for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) map[y * width + x] = value;
    };
    fill(5, 4, 15, 8, 0.9); // 10 x 4: kept
    fill(20, 10, 30, 14, 0.45); // above threshold but mean below 0.6: dropped
    fill(35, 2, 37, 18, 0.9); // 2 wide: dropped (min size 3)
    const boxes = dbBoxes(map, [1, 1, height, width]);
    expect(boxes).toHaveLength(1);
    const distance = (10 * 4 * 1.5) / (2 * 14);
    expect(boxes[0].box[0]).toBeCloseTo(5 - distance, 9);
    expect(boxes[0].box[3]).toBeCloseTo(8 + distance, 9);
    expect(boxes[0].score).toBeCloseTo(0.9, 6);
    expect(() => dbBoxes(map, [1, 1, 10, 10])).toThrow(/probability map/);
  });

  it('matches boxes one to one at IoU 0.5', () => {
    expect(boxIou([0, 0, 10, 10], [5, 0, 15, 10])).toBeCloseTo(1 / 3, 9);
    const truth = [
      [0, 0, 10, 10],
      [20, 0, 30, 10],
    ];
    // Two detections on the first box (one counts), one near-miss on the second.
    expect(matchBoxes([[0, 0, 10, 10], [1, 0, 10, 10], [24, 0, 34, 10]], truth)).toEqual({ matched: 1, detected: 3, truth: 2 });
    expect(matchBoxes([[0, 0, 10, 10], [21, 0, 31, 10]], truth)).toEqual({ matched: 2, detected: 2, truth: 2 });
  });

  it('edit distance', () => {
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('GPU', 'GPU')).toBe(0);
  });
});
