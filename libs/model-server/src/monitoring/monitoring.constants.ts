/** The monitoring options after validation and defaults. @internal */
export const MONITORING_OPTIONS = Symbol.for('nest-model-server:monitoring-options');
