import type { INestApplicationContext } from '@nestjs/common';
import { ModelCatalog } from '../inference/model-catalog';
import { ServerInfo } from '../inference/server-info';
import { buildOpenApiDocument, type OpenApiDocument } from '../protocol/openapi/openapi-document';

/** The part of an OpenAPI document the model routes are added to (what `SwaggerModule.createDocument` returns). @publicApi */
export interface OpenApiTarget {
  paths: Record<string, unknown>;
  components?: { schemas?: Record<string, unknown> };
  tags?: { name: string; description?: string }[];
}

/**
 * Adds the model server's routes (the v2 API with the models' examples, and what other modules contribute, e.g.
 * SageMaker's) to an application's OpenAPI document, next to its own controllers, and returns the document. The
 * v2 paths stay `/v2/...` whatever the global prefix (the routes stay there too). Call it after `app.init()`
 * (or `listen`), so the models are known.
 *
 * @example
 * const document = withModelRoutes(app, SwaggerModule.createDocument(app, new DocumentBuilder().setTitle('Scoring').build()));
 * SwaggerModule.setup('api', app, document);
 * @throws when the application's document already has a path or schema of the same name
 * @publicApi
 */
export function withModelRoutes<T extends OpenApiTarget>(app: INestApplicationContext, document: T): T {
  const own: OpenApiDocument = buildOpenApiDocument(app.get(ModelCatalog), app.get(ServerInfo).apiPaths);
  for (const [path, item] of Object.entries(own.paths)) {
    if (path in document.paths) throw new Error(`the application's OpenAPI document already has the path ${path}, which the model server serves`);
    document.paths[path] = item;
  }
  const schemas = ((own.components as { schemas: Record<string, unknown> }).schemas);
  document.components ??= {};
  const target = (document.components.schemas ??= {});
  for (const [name, schema] of Object.entries(schemas)) {
    if (name in target && JSON.stringify(target[name]) !== JSON.stringify(schema)) {
      throw new Error(`the application's OpenAPI document already has a schema named ${name}, which the model routes use for another shape`);
    }
    target[name] = schema;
  }
  const tags = new Set((document.tags ?? []).map((t) => t.name));
  for (const item of Object.values(own.paths)) {
    for (const op of Object.values(item) as { tags?: string[] }[]) {
      for (const tag of op.tags ?? []) {
        if (!tags.has(tag)) {
          tags.add(tag);
          (document.tags ??= []).push({ name: tag, description: 'KServe v2 / Open Inference Protocol' });
        }
      }
    }
  }
  return document;
}
