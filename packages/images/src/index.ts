// Public API of @deprune/images: images to model inputs (pure; `@deprune/images/node` decodes files).
export { rgbImage, fromChannels, resizeBilinear, centerCrop, rotate180 } from './image';
export type { RgbImage } from './image';
export { MAX_IMAGE_PIXELS, imageDimensions, checkPixelBudget } from './dimensions';
export type { ImageDimensions } from './dimensions';
export { PRESET_NAMES, preprocessImage } from './presets';
export type { PresetName, PresetOptions, PreparedInput } from './presets';
