import { IsInt, IsOptional, IsString, Matches, Max, Min } from 'class-validator';
import { loadModelFolder } from '../../repository/model-folder.loader';
import {
  SAGEMAKER_DEFAULTS,
  type MultiModelOptions,
  type ResolvedMultiModelOptions,
  type ResolvedSageMakerOptions,
  type SageMakerModuleOptions,
} from '../../options/sagemaker-options.interface';
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

class MultiModelRules {
  @IsOptional() @IsInt() @Min(0) maxModels?: number;
  @IsOptional() @IsInt() @Min(0) maxResidentBytes?: number;
  @IsOptional() @IsInt() @Min(1) @Max(1000) pageSize?: number;
}

/** The default of `resolve`: the model folder at `url`, served under `name`. */
function modelFolderAt(name: string, url: string) {
  return loadModelFolder(url, { name });
}

/** The multi-model settings, checked, with defaults; undefined when the mode is off. */
function multiModelOptions(given: boolean | MultiModelOptions | undefined): ResolvedMultiModelOptions | undefined {
  if (given === undefined || given === false) return undefined;
  if (given !== true && (typeof given !== 'object' || given === null || Array.isArray(given))) {
    throw new Error('invalid SageMaker options: multiModel must be true, false or an object of settings');
  }
  const settings = given === true ? {} : given;
  validateOrThrow('SageMaker multiModel', Object.assign(new MultiModelRules(), settings));
  if (settings.resolve !== undefined && typeof settings.resolve !== 'function') throw new Error('invalid SageMaker options: multiModel.resolve must be a function');
  return {
    maxModels: settings.maxModels ?? 0,
    maxResidentBytes: settings.maxResidentBytes ?? 0,
    pageSize: settings.pageSize ?? SAGEMAKER_DEFAULTS.multiModelPageSize,
    resolve: settings.resolve ?? modelFolderAt,
  };
}

/**
 * Checks {@link SageMakerModuleOptions} and applies the defaults; one error lists every problem.
 *
 * @internal
 */
export function validateSageMakerOptions(options: SageMakerModuleOptions | undefined): ResolvedSageMakerOptions {
  const given = options ?? {};
  if (typeof given !== 'object' || given === null || Array.isArray(given)) throw new Error('invalid SageMaker options: must be an object');
  const { multiModel, ...rest } = given;
  validateOrThrow('SageMaker', Object.assign(new SageMakerRules(), rest));
  return {
    defaultModel: given.defaultModel,
    maxConcurrentTransforms: given.maxConcurrentTransforms ?? SAGEMAKER_DEFAULTS.maxConcurrentTransforms,
    defaultContentType: (given.defaultContentType ?? SAGEMAKER_DEFAULTS.defaultContentType).toLowerCase(),
    defaultAccept: given.defaultAccept?.toLowerCase(),
    invocationTimeoutMs: given.invocationTimeoutMs,
    pingTimeoutMs: given.pingTimeoutMs ?? SAGEMAKER_DEFAULTS.pingTimeoutMs,
    multiModel: multiModelOptions(multiModel),
  };
}
