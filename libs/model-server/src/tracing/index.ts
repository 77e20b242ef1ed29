export { SPAN_ATTRIBUTES, SPAN_NAMES } from './span-names';
export { contextManagerFor, PromiseContextManager, type TracingContext } from './promise-context-manager';
