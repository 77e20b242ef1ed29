// The hooks are part of the authoring API (a model implements them); the model layer resolves them at load.
export type { BatchStrategy, SageMakerHooks, SageMakerOutput } from '../../model/sagemaker-hooks.interface';
