export { V2RestRoutes } from './v2-rest.routes';
export { V2RestEndpoint } from './v2-rest.endpoint';
export type { V2RestSettings, BodyPaths } from './v2-rest.endpoint';
