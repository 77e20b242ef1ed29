export { PinoLogger } from './pino-logger';
export type { ServerLogLevel } from './pino-logger';
export { RequestLogSubscriber } from './request-log.subscriber';
