import { Injectable, Logger, UnauthorizedException, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { FastifyRequest } from 'fastify';

/** The key accepted when `API_KEYS` is not set (for trying the sample locally; set `API_KEYS` anywhere else). */
export const DEV_API_KEY = 'dev-key';

/**
 * The application's own guard: a request needs an `x-api-key` header holding one of the comma-separated
 * `API_KEYS`. It sits on the model class (`@UseGuards(ApiKeyGuard)`) and on the applicants controller; the health
 * routes stay open for probes.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  private readonly keys: ReadonlySet<string>;

  constructor(config: ConfigService) {
    const listed = config.get<string>('API_KEYS');
    if (listed === undefined) new Logger('ApiKeyGuard').warn(`API_KEYS is not set: the only key accepted is '${DEV_API_KEY}'`);
    this.keys = new Set((listed ?? DEV_API_KEY).split(',').map((k) => k.trim()).filter((k) => k !== ''));
  }

  canActivate(context: ExecutionContext): boolean {
    const key = context.switchToHttp().getRequest<FastifyRequest>().headers['x-api-key'];
    if (typeof key !== 'string' || !this.keys.has(key)) throw new UnauthorizedException('a valid x-api-key header is required');
    return true;
  }
}
