// Public API of @deprune/runtime: run ONNX models, dense or pruned by a deprune plan, on a kernel backend (@deprune/wasm, @deprune/gpu).
export { Session, createSession, DEFAULT_MAX_ACTIVATION_BYTES } from './session';
export { keptTapsOf, keptColumnsOf, sparseKernelOf } from './kept-indices';
export type { SessionOptions } from './session';
export { compileGraph } from './compile';
export type { CompileOptions, CompiledGraph } from './compile';
export { registerOp, getOpCompiler, supportedOps } from './ops/registry';
export { makeStep } from './ops/step';
export type { OpCompiler, StepSpec } from './ops/step';
export { NodeContext } from './context';
export type { GraphState, Operand } from './context';
export { planFusions, describeFusion } from './fusion';
export { planChains, DEVICE_RESIDENT_MODES } from './chains';
export type { Fusion, FusionInputs, FusionPlan } from './fusion';
export type { CompiledStep, CompileReport, HostTensor, Placement, PlanLayerUse, RunOptions, RunResult, StepTiming } from './types';
export { BACKEND_MODES, GPU_BACKEND_MODES, isBackendMode, isGpuBackendMode, resolveBackendMode, createKernelBackend, backendLabel, availableCores } from './backends';
export type { BackendMode, BackendOptions, GpuBackendMode, ResolvedBackendMode, SessionBackend } from './backends';
