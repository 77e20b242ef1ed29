export { V1RestRoutes, V1_PREFIX } from './v1-rest.routes';
export { V1RestEndpoint, V1_PROTOCOL } from './v1-rest.endpoint';
export type { V1RestSettings, V1Call, V1Verb } from './v1-rest.endpoint';
export { V1_API_PATHS } from './v1.openapi';
