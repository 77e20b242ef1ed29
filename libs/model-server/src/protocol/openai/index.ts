export { OpenAIEndpoint } from './openai.endpoint';
export { OpenAIRoutes, OPENAI_PREFIX } from './openai.routes';
