export { ModelServerModule } from './model-server.module';
export type { ModelServerModuleOptions } from '../options/model-server-options.interface';
