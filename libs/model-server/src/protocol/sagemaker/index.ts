/** `nest-model-server/sagemaker`: the SageMaker serving contract (`/ping`, `/invocations`, `/execution-parameters`). */
import 'reflect-metadata';

export { SageMakerModule } from './sagemaker.module';
export { SageMakerService } from './sagemaker.service';
export { MultiModelService } from './multi-model.service';
export type { LoadedModelInfo, LoadedModelPage } from './multi-model.service';
export type { Invocation, InvocationResult, PingResult, ExecutionParameters } from './sagemaker.service';
export type { SageMakerHooks, SageMakerOutput, BatchStrategy } from './sagemaker-hooks.interface';
export type { SageMakerModuleOptions, MultiModelOptions } from '../../options/sagemaker-options.interface';
export { DEFAULT_MAX_PAYLOAD_IN_MB } from '../../options/sagemaker-options.interface';
export { TARGET_MODEL_HEADER, CUSTOM_ATTRIBUTES_HEADER } from './sagemaker.routes';
