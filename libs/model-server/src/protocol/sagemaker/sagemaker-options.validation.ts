import { IsInt, IsOptional, IsString, Matches, Max, Min, validateSync } from 'class-validator';
import type { ResolvedSageMakerOptions, SageMakerModuleOptions } from './sagemaker-options.interface';

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
  const errors = validateSync(Object.assign(new SageMakerRules(), given), { forbidUnknownValues: false });
  const problems = errors.flatMap((e) => Object.values(e.constraints ?? {}).map((m) => `${e.property}: ${m}`));
  if (problems.length > 0) throw new Error(`invalid SageMaker options:\n  - ${problems.join('\n  - ')}`);
  return {
    defaultModel: given.defaultModel,
    maxConcurrentTransforms: given.maxConcurrentTransforms ?? 1,
    defaultContentType: (given.defaultContentType ?? 'application/json').toLowerCase(),
    defaultAccept: given.defaultAccept?.toLowerCase(),
    invocationTimeoutMs: given.invocationTimeoutMs,
    pingTimeoutMs: given.pingTimeoutMs ?? 2000,
  };
}
