export { SPAN_ATTRIBUTES, SPAN_NAMES } from './span-names';
export { PromiseContextManager, type TracingContext } from './promise-context-manager';
