export { V2RestRoutes } from './v2-rest.routes';
export type { V2RestSettings, BodyPaths } from './v2-rest.routes';
export { toHttpError, errorBody } from './http-status.map';
export type { HttpErrorAnswer } from './http-status.map';
