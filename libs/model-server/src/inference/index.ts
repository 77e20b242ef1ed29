export { DataPlane } from './data-plane';
export type { DataPlaneLimits } from './data-plane';
export { ModelCatalog } from './model-catalog';
export type { ServerMetadata, ModelMetadata, ModelListing, VersionStatus, RepositoryIndexEntry } from './model-catalog';
export { ServerInfo } from './server-info';
export type { CallOptions, OperationInput, OperationOutput } from './call-options.interface';
export { DEFAULT_REQUEST_LIMITS } from './request-limits';
export type { RequestLimits } from './request-limits';
export type { StreamFacts, StreamEnding } from './response-stream';
