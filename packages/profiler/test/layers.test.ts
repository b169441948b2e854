import { buildZooModel } from '@deprune/zoo';
import { describe, expect, it } from 'vitest';
import { layerMatcher, modelDsconvBlocks, modelProfileLayers } from '../src/index';

describe('layerMatcher', () => {
  it('matches whole names with * and ?, comma separated, everything without patterns', () => {
    const match = layerMatcher('features.1.*, features.1?.conv.1.0');
    expect(match('features.1.conv.0.0')).toBe(true);
    expect(match('features.12.conv.1.0')).toBe(true);
    expect(match('features.2.conv.1.0')).toBe(false);
    expect(match('xfeatures.1.conv')).toBe(false);
    expect(layerMatcher(undefined)('anything')).toBe(true);
    expect(layerMatcher(['a.b', 'c'])('a.b')).toBe(true);
    expect(layerMatcher(['a.b'])('aXb')).toBe(false);
  });
});

describe('model layers', () => {
  const model = buildZooModel('mobilenetv3-small', { seed: 0 });

  it('finds the DSConv blocks with their shapes', () => {
    const blocks = modelDsconvBlocks(model);
    expect(blocks).toHaveLength(11);
    expect(blocks[0].dw).toMatchObject({ name: 'features.1.block.0.0', inputShape: [1, 16, 112, 112], outputShape: [1, 16, 56, 56] });
    expect(blocks[0].pw.name).toBe('features.1.block.2.0');
    expect(blocks[0].squeezeExcitation).toBe(true);
    expect(modelDsconvBlocks(model, { layers: 'features.3.*' }).map((block) => block.dw.name)).toEqual(['features.3.block.1.0']);
  });

  it('lists the DW and PW layers to profile, without squeeze-excitation convs', () => {
    const layers = modelProfileLayers(model, { tileRows: 16, dwUnit: 'group', groupSize: 8 });
    expect(layers.filter((layer) => layer.kind === 'dw')).toHaveLength(11);
    expect(layers.some((layer) => /fc\d$/.test(layer.name))).toBe(false);
    expect(layers.filter((layer) => layer.kind === 'pw').length).toBeGreaterThan(11);
    const dw = layers.find((layer) => layer.name === 'features.1.block.0.0');
    expect(dw).toMatchObject({ kind: 'dw', inputShape: [1, 16, 112, 112], kernel: [3, 3], strides: [2, 2], unit: 'group', groupSize: 8 });
    const pw = layers.find((layer) => layer.name === 'features.1.block.2.0');
    expect(pw).toMatchObject({ kind: 'pw', inputShape: [1, 16, 56, 56], outChannels: 16, tileRows: 16 });
  });
});
