export { SPAN_ATTRIBUTES, SPAN_NAMES } from './span-names';
