/**
 * `nest-model-server/integrations`: the model server inside an application's own Nest stack: a `@nestjs/terminus`
 * health indicator, and the model routes in an `@nestjs/swagger` document.
 */
export { ModelsHealthIndicator } from './models-health.indicator';
export type { ModelsHealthDetails } from './models-health.indicator';
export { withModelRoutes } from './model-routes.openapi';
export type { OpenApiTarget } from './model-routes.openapi';
