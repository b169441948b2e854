import { beforeAll, describe, expect, it } from 'vitest';
import type { OnnxModel } from '@deprune/onnx';
import { PADDLE, VARIANTS, checkVariant, loadPaddle, runOrt } from './helpers';

/**
 * The three PaddleOCR models: PP-LCNetV3 (det, rec: DW -> PW chains, learnable affine after every
 * conv, SE in two blocks) and MobileNetV3 (cls: SE in 9 of 11 blocks). H and W are dynamic, so the
 * pipeline gets input shapes for its MAC figures.
 */
for (const name of ['cls', 'rec', 'det'] as const) {
  describe(`PaddleOCR ${name}: every variant at ratio 0.5`, () => {
    const shape = PADDLE[name].shape;
    let model: OnnxModel;
    let dense: Awaited<ReturnType<typeof runOrt>>;
    beforeAll(async () => {
      model = loadPaddle(name);
      dense = await runOrt(model, shape);
    });

    for (const variant of VARIANTS) {
      it(variant, async () => {
        const result = await checkVariant(model, variant, shape, dense, { inputShapes: { x: [...shape] } });
        expect(result.report.totals.macsBefore).toBeGreaterThan(0);
        expect(result.report.warnings).toEqual([]);
        if (variant === 'channel') {
          // Every DW of the three models starts a DSConv block.
          expect(result.report.skipped.filter((layer) => result.plan.layers.some((entry) => entry.kind === 'dw' && entry.name === layer.name))).toEqual([]);
        }
      });
    }
  });
}
