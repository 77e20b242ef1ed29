/** The model server module's options after validation and defaults (a `ResolvedModelServerOptions`). @internal */
export const RESOLVED_OPTIONS = Symbol.for('nest-model-server:resolved-options');

/**
 * The Nest request pipeline of the model routes (a `ModelRoutePipelineSource`): guards, interceptors and filters the
 * REST and SageMaker routes run around their handlers. @internal
 */
export const MODEL_ROUTE_PIPELINE = Symbol.for('nest-model-server:model-route-pipeline');
