export { buildOpenApiDocument } from './openapi-document';
export type { OpenApiDocument, OpenApiPaths } from './openapi-document';
export { OpenApiRegistrar } from './openapi.registrar';
