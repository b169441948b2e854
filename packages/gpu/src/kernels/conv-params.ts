import type { ConvGeometry } from '@deprune/kernels';

export { convGeometry } from '@deprune/kernels';
export type { ConvAttrs, ConvGeometry } from '@deprune/kernels';

/** Geometry constants shared by the conv kernel bodies. */
export function geometryConstants(g: ConvGeometry): Record<string, number> {
  return {
    height: g.height,
    width: g.width,
    strideH: g.strideH,
    strideW: g.strideW,
    padTop: g.padTop,
    padLeft: g.padLeft,
    dilationH: g.dilationH,
    dilationW: g.dilationW,
  };
}
