import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { errorAnswer, sendAnswer } from '../http/http-answer';
import { ownHook } from '../http/fast-lane';
import { onFastify } from '../http/fastify-instance.util';
import { TokenVerifier } from './token-verifier';
import { unauthenticated } from '../../errors';

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
    @Inject(TokenVerifier) private readonly verifier: TokenVerifier,
  ) {}

  onModuleInit(): void {
    if (this.verifier.enabled) onFastify(this.adapterHost, (app) => this.register(app));
  }

  private register(app: FastifyInstance): void {
    const verifier = this.verifier;
    // The lane makes the same check itself (the one `admits`), so this hook does not turn it off.
    app.addHook(
      'onRequest',
      ownHook((req: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void) => {
        if (verifier.admits(req.url, req.headers)) return done();
        sendAnswer(reply.header('www-authenticate', 'Bearer'), errorAnswer(unauthenticated(), false));
      }),
    );
  }
}
