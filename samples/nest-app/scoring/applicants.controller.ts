import { Controller, Get, Inject, NotFoundException, Param, Res, ServiceUnavailableException, UseGuards } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { ApiKeyGuard } from '../auth/api-key.guard';
import { ApplicantFeaturesRepository, FeatureStoreUnavailableError, type ApplicantFeatures } from './applicant-features.repository';
import { FEATURE_STORE_RETRY_AFTER_S } from './credit-score.model';

/** The application's own controller beside the model routes: `GET /applicants/:id`, an applicant's stored features. */
@Controller('applicants')
@UseGuards(ApiKeyGuard)
export class ApplicantsController {
  constructor(@Inject(ApplicantFeaturesRepository) private readonly features: ApplicantFeaturesRepository) {}

  @Get(':id')
  async findOne(@Param('id') id: string, @Res({ passthrough: true }) reply: FastifyReply): Promise<ApplicantFeatures> {
    let found: ApplicantFeatures | undefined;
    try {
      found = await this.features.findOne(id);
    } catch (err) {
      if (!(err instanceof FeatureStoreUnavailableError)) throw err;
      void reply.header('retry-after', String(FEATURE_STORE_RETRY_AFTER_S));
      throw new ServiceUnavailableException('applicant features are unavailable: the feature database does not answer; retry shortly');
    }
    if (found === undefined) throw new NotFoundException(`unknown applicant id: '${id}'`);
    return found;
  }
}
