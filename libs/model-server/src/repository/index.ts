export type { ModelConfig, ModelVersionConfig, LoadMode } from './model-config.interface';
export { ModelRepository } from './model-repository';
export type { ModelEntry } from './model-repository';
export { ModelVersion } from './model-version';
export { DEFAULT_UNLOAD_WAIT_MS } from './model-version';
export { ModelFaultGuard, DEFAULT_MAX_MODEL_FAULTS, DEFAULT_FAULT_WINDOW_MS } from './model-fault-guard';
export type { ModelFaultGuardOptions, FaultAttribution } from './model-fault-guard';
