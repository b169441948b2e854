// Public API of @deprune/evaluate: task accuracy of dense and pruned models over labelled folders.
export { readDataset, TASKS, LABEL_FILE } from './dataset';
export type { Task, DatasetItem, TruthBox } from './dataset';
export { evaluate } from './evaluate';
export type { EvaluateOptions, EvaluationReport, TaskMetrics, RecMetrics, ClsMetrics, DetMetrics, FidelityMetrics, ItemResult } from './evaluate';
