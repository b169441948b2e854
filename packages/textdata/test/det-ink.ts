import { expect } from 'vitest';
import type { DetSample } from '../src/index';

/**
 * A det scene's boxes are right: no dark (ink) pixel lies outside every box (1 px slack for
 * anti-aliasing), and every box holds ink.
 */
export function expectBoxesEncloseInk({ image, boxes }: DetSample): void {
  expect(boxes.length).toBeGreaterThanOrEqual(3);
  const dark = (x: number, y: number) => image.data[(y * image.width + x) * 3] < 120;
  const inside = (x: number, y: number) => boxes.some(({ points }) => x >= points[0][0] - 1 && x <= points[2][0] + 1 && y >= points[0][1] - 1 && y <= points[2][1] + 1);
  let darkOutside = 0;
  for (let y = 0; y < image.height; y++) for (let x = 0; x < image.width; x++) if (dark(x, y) && !inside(x, y)) darkOutside++;
  expect(darkOutside).toBe(0);
  for (const { points } of boxes) {
    let ink = 0;
    for (let y = Math.ceil(points[0][1]); y < points[2][1]; y++) for (let x = Math.ceil(points[0][0]); x < points[2][0]; x++) if (dark(x, y)) ink++;
    expect(ink).toBeGreaterThan(10);
  }
}
