export type { ModelConfig, ModelVersionConfig, LoadMode } from './model-config.interface';
export { ModelRepository } from './model-repository';
export type { ModelEntry } from './model-repository';
export { ModelVersion } from './model-version';
