import { IsBoolean, IsInt, IsOptional, IsString, Max, Min, MinLength, ValidationError, validateSync } from 'class-validator';
import {
  DEFAULT_GRPC_MAX_MESSAGE_BYTES,
  DEFAULT_GRPC_PORT,
  type ModelServerGrpcModuleOptions,
  type ResolvedGrpcOptions,
} from './grpc-options.interface';

class GrpcOptionsRules {
  @IsOptional() @IsInt() @Min(0) @Max(65535) port?: number;
  @IsOptional() @IsString() @MinLength(1) host?: string;
  @IsOptional() @IsInt() @Min(1024) @Max(2 ** 31 - 1) maxReceiveMessageBytes?: number;
  @IsOptional() @IsInt() @Min(1024) @Max(2 ** 31 - 1) maxSendMessageBytes?: number;
  @IsOptional() @IsInt() @Min(1) maxStreamInFlight?: number;
  @IsOptional() @IsInt() @Min(0) shutdownGraceMs?: number;
  @IsOptional() @IsBoolean() reflection?: boolean;
}

function messages(errors: ValidationError[]): string[] {
  return errors.flatMap((e) => Object.values(e.constraints ?? {}).map((m) => `${e.property}: ${m}`));
}

/**
 * Checks the gRPC module's options (class-validator) and applies defaults; one error lists every problem.
 *
 * @internal
 */
export function validateGrpcOptions(options: ModelServerGrpcModuleOptions): ResolvedGrpcOptions {
  const problems = messages(validateSync(Object.assign(new GrpcOptionsRules(), options ?? {}), { forbidUnknownValues: false }));
  if (problems.length > 0) throw new Error(`invalid gRPC options:\n  - ${problems.join('\n  - ')}`);
  return {
    port: options.port ?? DEFAULT_GRPC_PORT,
    host: options.host ?? '0.0.0.0',
    maxReceiveMessageBytes: options.maxReceiveMessageBytes ?? DEFAULT_GRPC_MAX_MESSAGE_BYTES,
    maxSendMessageBytes: options.maxSendMessageBytes ?? DEFAULT_GRPC_MAX_MESSAGE_BYTES,
    maxStreamInFlight: options.maxStreamInFlight ?? 64,
    shutdownGraceMs: options.shutdownGraceMs ?? 10_000,
    reflection: options.reflection ?? true,
  };
}
