/** The model server module's options after validation and defaults (a `ResolvedModelServerOptions`). @internal */
export const RESOLVED_OPTIONS = Symbol.for('nest-model-server:resolved-options');
