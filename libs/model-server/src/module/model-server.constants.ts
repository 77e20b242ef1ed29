/** The options after validation and defaults. @internal */
export const RESOLVED_OPTIONS = Symbol.for('nest-model-server:resolved-options');
