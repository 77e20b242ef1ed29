import { Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { ModelServerModule } from 'nest-model-server';
import { ScoringModule } from './scoring/scoring.module';

/**
 * The application: configuration from the environment (`ConfigModule`), the model server (its options from the
 * configuration), and the scoring feature, which contributes the `credit-score` model.
 */
@Module({
  imports: [
    ConfigModule.forRoot({ isGlobal: true }),
    ModelServerModule.forRootAsync({
      inject: [ConfigService],
      useFactory: (config: ConfigService) => ({
        models: [],
        serverName: 'credit-scoring',
        requestTimeoutMs: Number(config.get<string>('REQUEST_TIMEOUT_MS', '5000')),
      }),
    }),
    ScoringModule,
  ],
})
export class AppModule {}
