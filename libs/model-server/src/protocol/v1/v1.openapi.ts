/** The answers a v1 predict or explain may give besides 200. */
const INFERENCE_ANSWERS = {
  '400': { description: 'malformed body, or rows that do not fit the model' },
  '404': { description: 'unknown model (or a model without explain)' },
  '413': { description: 'body over the configured limit, or tensors over maxTensorBytes' },
  '415': { description: 'not JSON, or an unsupported content encoding' },
  '503': { description: 'model not ready (Retry-After while loading), or overloaded' },
  '504': { description: 'the request deadline passed' },
};

const MODEL = { name: 'model', in: 'path', required: true, schema: { type: 'string' } };

const BODY = {
  required: true,
  content: { 'application/json': { example: { instances: [[5.1, 3.5, 1.4, 0.2]] } } },
};

/**
 * KServe's v1 routes as OpenAPI path items, added to `/openapi.json` when the server serves them.
 *
 * @internal
 */
export const V1_API_PATHS: Record<string, Record<string, unknown>> = {
  '/v1/models': {
    get: { tags: ['v1'], summary: 'KServe v1: the names of the models', responses: { '200': { description: '{"models": [names]}' } } },
  },
  '/v1/models/{model}': {
    get: {
      tags: ['v1'],
      summary: 'KServe v1: model readiness',
      parameters: [MODEL],
      responses: { '200': { description: '{"name", "ready": true}' }, '404': { description: 'unknown model' }, '503': { description: 'not ready' } },
    },
  },
  '/v1/models/{model}:predict': {
    post: {
      tags: ['v1'],
      summary: 'KServe v1 prediction: {"instances": [...]} or {"inputs": [...]} → {"predictions": [...]}, one per instance',
      parameters: [MODEL],
      requestBody: BODY,
      responses: { '200': { description: '{"predictions": [...]}' }, ...INFERENCE_ANSWERS },
    },
  },
  '/v1/models/{model}:explain': {
    post: {
      tags: ['v1'],
      summary: 'KServe v1 explanation: the same body → {"explanations": [...]}',
      parameters: [MODEL],
      requestBody: BODY,
      responses: { '200': { description: '{"explanations": [...]}' }, ...INFERENCE_ANSWERS },
    },
  },
};
