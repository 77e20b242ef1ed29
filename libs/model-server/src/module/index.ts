export { ModelServerModule } from './model-server.module';
export type { ModelServerModuleOptions } from './model-server-options.interface';
export { DEFAULT_MAX_BODY_BYTES } from './model-server-options.interface';
export { MODULE_OPTIONS_TOKEN as MODEL_SERVER_OPTIONS, OPTIONS_TYPE, ASYNC_OPTIONS_TYPE } from './model-server.module-definition';
