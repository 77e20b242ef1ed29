import { IsInt, IsOptional, IsString, Matches, Max, Min } from 'class-validator';
import { SAGEMAKER_DEFAULTS, type ResolvedSageMakerOptions, type SageMakerModuleOptions } from '../../options/sagemaker-options.interface';
import { validateOrThrow } from '../../options/validate.util';

const MEDIA_TYPE = /^[A-Za-z0-9!#$&^_.+-]+\/[A-Za-z0-9!#$&^_.+-]+$/;

class SageMakerRules {
  @IsOptional() @IsString() defaultModel?: string;
  @IsOptional() @IsInt() @Min(1) @Max(1024) maxConcurrentTransforms?: number;
  @IsOptional() @Matches(MEDIA_TYPE, { message: 'defaultContentType must be a media type like application/json' }) defaultContentType?: string;
  @IsOptional() @Matches(MEDIA_TYPE, { message: 'defaultAccept must be a media type like application/json' }) defaultAccept?: string;
  @IsOptional() @IsInt() @Min(1) invocationTimeoutMs?: number;
  @IsOptional() @IsInt() @Min(1) pingTimeoutMs?: number;
}

/**
 * Checks {@link SageMakerModuleOptions} and applies the defaults; one error lists every problem.
 *
 * @internal
 */
export function validateSageMakerOptions(options: SageMakerModuleOptions | undefined): ResolvedSageMakerOptions {
  const given = options ?? {};
  if (typeof given !== 'object' || given === null || Array.isArray(given)) throw new Error('invalid SageMaker options: must be an object');
  validateOrThrow('SageMaker', Object.assign(new SageMakerRules(), given));
  return {
    defaultModel: given.defaultModel,
    maxConcurrentTransforms: given.maxConcurrentTransforms ?? SAGEMAKER_DEFAULTS.maxConcurrentTransforms,
    defaultContentType: (given.defaultContentType ?? SAGEMAKER_DEFAULTS.defaultContentType).toLowerCase(),
    defaultAccept: given.defaultAccept?.toLowerCase(),
    invocationTimeoutMs: given.invocationTimeoutMs,
    pingTimeoutMs: given.pingTimeoutMs ?? SAGEMAKER_DEFAULTS.pingTimeoutMs,
  };
}
