/**
 * Not a public entry: the plumbing the CLI (`src/`) and the repository's own tests use, imported by relative path
 * (`libs/model-server/src/internal`). package.json "exports" does not list it, so an installed package cannot
 * reach it, and it may change with any release.
 */
import 'reflect-metadata';

// The CLI
export { isModelFolder } from './repository/model-folder.loader';
export { readConfigFile, configFileModels, modelFolderEntry } from './module/config-file.loader';
export { PinoLogger, SERVER_LOG_LEVELS, DEFAULT_LOG_LEVEL } from './logging/pino-logger';
export type { ServerLogLevel } from './logging/pino-logger';
export { RequestLogSubscriber } from './logging/request-log.subscriber';
export { MODEL_SERVER_VERSION } from './version';
export { contextManagerFor } from './tracing';
export { RootSampler, useRootSampler } from './tracing/root-sampler';
export { spawnWorkerThread } from './execution/worker-spawn.util';
export type { TracingContext } from './tracing';
export { DEFAULT_HTTP_TIMEOUTS } from './protocol/http/connection-guard';
export { TURN_BODY_BYTES } from './protocol/http/request-body.reader';
export { DEFAULT_MAX_BODY_BYTES, MODEL_SERVER_DEFAULTS } from './options/model-server-options.interface';
export { GRPC_DEFAULTS } from './options/grpc-options.interface';
export { LOG_FORMATS, MONITORING_DEFAULTS } from './monitoring/monitoring-options.interface';

// The repository's tests
export { seededRandom } from './routing/seeded-random.util';
export { parseJson, stringifyJson } from './codecs';
export type { ExecutorFactory, ExecutorObserver } from './execution/predict-executor.interface';
export { ContentCodecRegistry } from './codecs/content/content-codec.registry';
