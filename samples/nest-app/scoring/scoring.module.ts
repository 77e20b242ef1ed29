import { Module } from '@nestjs/common';
import { resolve } from 'node:path';
import { ModelServerModule } from 'nest-model-server';
import { ApplicantFeaturesRepository } from './applicant-features.repository';
import { ApplicantsController } from './applicants.controller';
import { CreditScoreModel } from './credit-score.model';
import { PgPoolCloser, pgPoolProvider } from './pg-pool.provider';

/** The scorecard's weights (samples/scorecard/model), from the working directory unless `SCORECARD_MODEL_PATH` says otherwise. */
const SCORECARD_MODEL_PATH = process.env.SCORECARD_MODEL_PATH ?? resolve('samples/scorecard/model');

/**
 * The scoring feature: the PostgreSQL pool, the applicants' feature repository, the applicants controller, and
 * the `credit-score` model, contributed to the application's model server with `forFeature` and built by this
 * module's injector (it receives the repository).
 */
@Module({
  imports: [
    ModelServerModule.forFeature({
      models: [{ name: 'credit-score', model: CreditScoreModel, modelPath: SCORECARD_MODEL_PATH, parameters: { threshold: 0.5 } }],
    }),
  ],
  controllers: [ApplicantsController],
  providers: [pgPoolProvider, PgPoolCloser, ApplicantFeaturesRepository],
  exports: [ApplicantFeaturesRepository],
})
export class ScoringModule {}
