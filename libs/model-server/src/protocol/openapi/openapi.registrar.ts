import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';
import { ModelCatalog } from '../../inference/model-catalog';
import { ServerInfo } from '../../inference/server-info';
import { RESOLVED_OPTIONS } from '../../options/tokens';
import type { ResolvedModelServerOptions } from '../../options/model-server-options.interface';
import { TokenVerifier } from '../auth/token-verifier';
import { onFastify } from '../http/fastify-instance.util';
import { DOCS_PAGE } from './docs-page';
import { buildOpenApiDocument } from './openapi-document';

/**
 * Serves `GET /openapi.json` (the REST API, models' metadata as examples) and the `/docs` page.
 *
 * @internal
 */
@Injectable()
export class OpenApiRegistrar implements OnModuleInit {
  constructor(
    @Inject(HttpAdapterHost) private readonly adapterHost: HttpAdapterHost,
    @Inject(ModelCatalog) private readonly catalog: ModelCatalog,
    @Inject(ServerInfo) private readonly info: ServerInfo,
    @Inject(RESOLVED_OPTIONS) private readonly options: ResolvedModelServerOptions,
    @Inject(TokenVerifier) private readonly verifier: TokenVerifier,
  ) {}

  onModuleInit(): void {
    if (this.options.rest && this.options.docs) onFastify(this.adapterHost, (app) => this.register(app));
  }

  private register(app: FastifyInstance): void {
    // Served without credentials while the models are protected, the document names no model.
    const withModels = this.verifier.mayNameModels('docs');
    for (const path of ['/openapi.json', '/docs']) this.verifier.declareOpen(path, 'docs');
    app.get('/openapi.json', async (_req, reply) =>
      reply
        .header('content-type', 'application/json; charset=utf-8')
        .send(JSON.stringify(buildOpenApiDocument(this.catalog, this.info.apiPaths, withModels))),
    );
    app.get('/docs', async (_req, reply) => reply.header('content-type', 'text/html; charset=utf-8').send(DOCS_PAGE));
  }
}
