import { beforeAll, describe, expect, it } from 'vitest';
import type { OnnxModel } from '@deprune/onnx';
import { buildZooModel } from '@deprune/zoo';
import { VARIANTS, checkVariant, runOrt } from './helpers';

const INPUT = [1, 3, 224, 224];

for (const folded of [false, true]) {
  describe(`MobileNetV2 (BN ${folded ? 'folded' : 'kept'}): every variant at ratio 0.5`, () => {
    let model: OnnxModel;
    let dense: Awaited<ReturnType<typeof runOrt>>;
    beforeAll(async () => {
      model = buildZooModel('mobilenetv2', { foldBatchNorm: folded });
      dense = await runOrt(model, INPUT);
    });

    for (const variant of VARIANTS) {
      it(variant, async () => {
        const result = await checkVariant(model, variant, INPUT, dense);
        const { totals } = result.report;
        // 17 DW + 34 PW (no SE in MobileNetV2); channel prunes the 17 blocks (DW + project PW).
        expect(totals.dwLayers).toBe(17);
        expect(totals.pwLayers).toBe(variant === 'channel' ? 17 : 34);
        expect(totals.macsBefore).toBe(300_774_272);
        if (variant !== 'channel') expect(result.report.skipped).toEqual([]);
        else expect(result.report.skipped).toHaveLength(17);
      });
    }
  });
}
