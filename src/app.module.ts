import { Module, type DynamicModule } from '@nestjs/common';
import { ModelServerModule, PinoLogger, RequestLogSubscriber } from 'nest-model-server';
import type { ServerConfig } from './config/server-config';

/** The runnable server: the model server module configured from the CLI's configuration. */
@Module({})
export class AppModule {
  static forConfig(config: ServerConfig, logger?: PinoLogger): DynamicModule {
    return {
      module: AppModule,
      imports: [ModelServerModule.forRoot(config.options)],
      // With structured logs, one line per request from the data plane's events (failures at info and above).
      providers: logger === undefined ? [] : [{ provide: PinoLogger, useValue: logger }, RequestLogSubscriber],
    };
  }
}
