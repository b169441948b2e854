import { beforeAll, describe, expect, it } from 'vitest';
import { findDsconvBlocks, type OnnxModel } from '@deprune/onnx';
import { buildZooModel } from '@deprune/zoo';
import { VARIANTS, checkVariant, runOrt } from './helpers';

const INPUT = [1, 3, 224, 224];

for (const folded of [false, true]) {
  describe(`EfficientNet-B0 (BN ${folded ? 'folded' : 'kept'}): every variant at ratio 0.5`, () => {
    let model: OnnxModel;
    let dense: Awaited<ReturnType<typeof runOrt>>;
    beforeAll(async () => {
      model = buildZooModel('efficientnet-b0', { foldBatchNorm: folded });
      dense = await runOrt(model, INPUT);
    });

    for (const variant of VARIANTS) {
      it(variant, async () => {
        const result = await checkVariant(model, variant, INPUT, dense);
        const { totals, skipped } = result.report;
        expect(totals.dwLayers).toBe(16);
        // 64 PW convs, 32 of them squeeze-excitation convs that are never pruned.
        expect(skipped.filter((layer) => /squeeze-excitation/.test(layer.reason))).toHaveLength(32);
        expect(totals.pwLayers).toBe(variant === 'channel' ? 16 : 32);
        if (variant === 'channel') {
          // SE convs shrink with their blocks: the reduce conv loses input columns, the expand conv output rows.
          const blocks = new Map(findDsconvBlocks(model).map((block) => [block.dw, block]));
          for (const removal of result.plan.physical!.removals) {
            const se = blocks.get(removal.dw)!.squeezeExcitation!;
            expect(removal.touched, removal.dw).toEqual(expect.arrayContaining([se.reduce, se.expand, blocks.get(removal.dw)!.pw]));
          }
          expect(result.plan.physical!.removals).toHaveLength(16);
        }
      });
    }
  });
}
