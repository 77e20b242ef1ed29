import { IsBoolean, IsInt, IsOptional, IsString, Max, Min, MinLength } from 'class-validator';
import { GRPC_DEFAULTS, type ModelServerGrpcModuleOptions, type ResolvedGrpcOptions } from '../../../options/grpc-options.interface';
import { validateOrThrow, withDefaults } from '../../../options/validate.util';

class GrpcOptionsRules {
  @IsOptional() @IsInt() @Min(0) @Max(65535) port?: number;
  @IsOptional() @IsString() @MinLength(1) host?: string;
  @IsOptional() @IsInt() @Min(1024) @Max(2 ** 31 - 1) maxReceiveMessageBytes?: number;
  @IsOptional() @IsInt() @Min(1024) @Max(2 ** 31 - 1) maxSendMessageBytes?: number;
  @IsOptional() @IsInt() @Min(1) maxStreamInFlight?: number;
  @IsOptional() @IsInt() @Min(0) shutdownGraceMs?: number;
  @IsOptional() @IsBoolean() reflection?: boolean;
}

/**
 * Checks the gRPC module's options (class-validator) and applies defaults; one error lists every problem.
 *
 * @internal
 */
export function validateGrpcOptions(options: ModelServerGrpcModuleOptions): ResolvedGrpcOptions {
  validateOrThrow('gRPC', Object.assign(new GrpcOptionsRules(), options ?? {}));
  return withDefaults(GRPC_DEFAULTS, options);
}
