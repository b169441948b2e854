import { DeprunError } from '@deprune/errors';
import { foldBatchNormalization, type OnnxModel } from '@deprune/onnx';

/**
 * Folds every BatchNormalization into the Conv before it (@deprune/onnx's
 * foldBatchNormalization). Every BN in a zoo graph directly follows a Conv, so one left
 * unfolded is a bug, not a property of the model, and is reported as such.
 */
export function foldIfAsked(model: OnnxModel, fold: boolean): OnnxModel {
  if (!fold) return model;
  const result = foldBatchNormalization(model);
  if (result.skipped.length > 0) {
    const list = result.skipped.map((skip) => `'${skip.batchNorm}' (${skip.reason})`).join('; ');
    throw new DeprunError('INTERNAL', `zoo: could not fold ${result.skipped.length} BatchNormalization node(s): ${list}`, { file: model.source });
  }
  return result.model;
}
