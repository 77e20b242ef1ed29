import { Module, type DynamicModule } from '@nestjs/common';
import { ModelServerModule } from 'nest-model-server';
import { ModelServerGrpcModule } from 'nest-model-server/grpc';
import { ModelServerMonitoringModule } from 'nest-model-server/monitoring';
import { SageMakerModule } from 'nest-model-server/sagemaker';
import { PinoLogger, RequestLogSubscriber } from '../libs/model-server/src/internal';
import type { ServerConfig } from './config/server-config';

/** The runnable server: the model server module configured from the CLI's configuration. */
@Module({})
export class AppModule {
  static forConfig(config: ServerConfig, logger?: PinoLogger): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ModelServerModule.forRoot(config.options),
        // Request records to LOG_STREAM (MLRun / CloudEvents) and Prometheus metrics at GET /metrics.
        ModelServerMonitoringModule.forRoot(config.monitoring),
        // gRPC (inference.GRPCInferenceService) on its own port, same process and data plane as REST.
        ModelServerGrpcModule.forRoot({
          port: config.grpcPort,
          host: config.host,
          maxReceiveMessageBytes: config.grpcMaxMessageBytes,
          maxSendMessageBytes: config.grpcMaxMessageBytes,
          shutdownGraceMs: config.shutdownGraceMs,
        }),
        // The SageMaker serving contract (/ping, /invocations, /execution-parameters) over the same models.
        ...(config.sagemaker === false ? [] : [SageMakerModule.forRoot(config.sagemaker)]),
      ],
      // With structured logs, one line per request from the data plane's events (failures at info and above).
      providers: logger === undefined ? [] : [{ provide: PinoLogger, useValue: logger }, RequestLogSubscriber],
    };
  }
}
