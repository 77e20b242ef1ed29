export { ModelServerModule } from './model-server.module';
export type { ModelServerModuleOptions } from '../options/model-server-options.interface';
export type { ModelServerFeatureOptions } from './model-server-feature.module';
export { modelsFromConfig } from './config-file.loader';
