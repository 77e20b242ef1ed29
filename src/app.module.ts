import { Module, type DynamicModule } from '@nestjs/common';
import { ModelServerModule } from 'nest-model-server';
import type { ServerConfig } from './config/server-config';

/** The runnable server: the model server module configured from the CLI's configuration. */
@Module({})
export class AppModule {
  static forConfig(config: ServerConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [ModelServerModule.forRoot(config.options)],
    };
  }
}
