import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { RESOLVED_OPTIONS } from '../../module/model-server.constants';
import type { ResolvedModelServerOptions } from '../../module/model-server-options.interface';
import { fastifyOf } from '../http/fastify-instance.util';
import { TokenVerifier } from './token-verifier';

const UNAUTHORIZED = JSON.stringify({
  error: 'missing or invalid credentials: send "Authorization: Bearer <token>" or the API-key header',
});

/**
 * Puts the token check in front of every HTTP route when auth is configured: inference, management,
 * SageMaker and any other route; health, metrics and docs only when asked. Without tokens it adds nothing.
 *
 * @internal
 */
@Injectable()
export class AuthRegistrar implements OnModuleInit {
  constructor(
    @Inject(HttpAdapterHost) private readonly adapterHost: HttpAdapterHost,
    @Inject(RESOLVED_OPTIONS) private readonly options: ResolvedModelServerOptions,
    @Inject(TokenVerifier) private readonly verifier: TokenVerifier,
  ) {}

  onModuleInit(): void {
    if (!this.verifier.enabled) return;
    const app = fastifyOf(this.adapterHost);
    if (app === undefined) return;
    const auth = this.options.auth;
    const open = new Set<string>();
    if (!auth.protectHealth) for (const p of ['/v2/health/live', '/v2/health/ready', '/ping']) open.add(p);
    if (auth.protectMetrics === false) open.add('/metrics');
    if (!auth.protectDocs) for (const p of ['/docs', '/openapi.json']) open.add(p);
    const verifier = this.verifier;
    app.addHook('onRequest', (req: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void) => {
      const q = req.url.indexOf('?');
      const path = q === -1 ? req.url : req.url.slice(0, q);
      if (open.has(path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path)) return done();
      if (verifier.allows(req.headers)) return done();
      reply.code(401).header('www-authenticate', 'Bearer').header('content-type', 'application/json; charset=utf-8').send(UNAUTHORIZED);
    });
  }
}
