/** The body of an invocation, in any of the codecs' types. */
const INVOCATION_BODY = {
  required: true,
  content: {
    'application/json': { example: { instances: [[5.1, 3.5, 1.4, 0.2]] } },
    'text/csv': { example: '5.1,3.5,1.4,0.2\n6.7,3.0,5.2,2.3\n' },
    'application/x-npy': {},
  },
};

/**
 * The SageMaker routes as OpenAPI path items, added to `/openapi.json` when the SageMaker module serves them.
 *
 * @internal
 */
export const SAGEMAKER_API_PATHS: Record<string, Record<string, unknown>> = {
  '/ping': {
    get: {
      tags: ['sagemaker'],
      summary: 'SageMaker health check: 200 when every model is ready and their ping hooks agree',
      responses: { '200': { description: 'healthy' }, '503': { description: 'not ready' } },
    },
  },
  '/invocations': {
    post: {
      tags: ['sagemaker'],
      summary: 'SageMaker inference: the model from X-Amzn-SageMaker-Target-Model, else the default model',
      parameters: [
        { name: 'X-Amzn-SageMaker-Target-Model', in: 'header', required: false, schema: { type: 'string' } },
        { name: 'Accept', in: 'header', required: false, schema: { type: 'string' }, description: 'application/json, text/csv or application/x-npy' },
      ],
      requestBody: INVOCATION_BODY,
      responses: {
        '200': { description: 'the prediction, in the Accept type' },
        '404': { description: 'unknown target model' },
        '406': { description: 'the Accept type cannot be produced' },
        '415': { description: 'unsupported Content-Type' },
      },
    },
  },
  '/execution-parameters': {
    get: {
      tags: ['sagemaker'],
      summary: 'Batch Transform settings: MaxConcurrentTransforms, BatchStrategy, MaxPayloadInMB',
      responses: { '200': { description: 'the settings' } },
    },
  },
};

const MODEL_NAME = { name: 'name', in: 'path', required: true, schema: { type: 'string' } };

/**
 * The multi-model endpoint routes as OpenAPI path items, added when the multi-model mode is on.
 *
 * @internal
 */
export const MULTI_MODEL_API_PATHS: Record<string, Record<string, unknown>> = {
  '/models': {
    post: {
      tags: ['sagemaker'],
      summary: 'Multi-model endpoint: load the model folder at url as model_name',
      requestBody: { required: true, content: { 'application/json': { example: { model_name: 'iris', url: '/opt/ml/models/iris/model' } } } },
      responses: {
        '200': { description: '{"modelName", "modelUrl"}: loaded, serving requests' },
        '400': { description: 'malformed body, or no usable model folder at url' },
        '409': { description: 'the name is already loaded' },
        '500': { description: "the model's load failed (the reason); the name stays unloaded" },
        '507': { description: 'no room: the budget of models or resident memory is spent' },
      },
    },
    get: {
      tags: ['sagemaker'],
      summary: 'Multi-model endpoint: the loaded models, a page at a time',
      parameters: [
        { name: 'next_page_token', in: 'query', required: false, schema: { type: 'string' } },
        { name: 'limit', in: 'query', required: false, schema: { type: 'integer', minimum: 1, maximum: 1000 } },
      ],
      responses: { '200': { description: '{"models": [{"modelName", "modelUrl"}], "nextPageToken"?}' } },
    },
  },
  '/models/{name}': {
    get: {
      tags: ['sagemaker'],
      summary: 'Multi-model endpoint: one loaded model',
      parameters: [MODEL_NAME],
      responses: { '200': { description: '{"modelName", "modelUrl"}' }, '404': { description: 'not loaded' } },
    },
    delete: {
      tags: ['sagemaker'],
      summary: 'Multi-model endpoint: unload a model once its running requests are done',
      parameters: [MODEL_NAME],
      responses: { '200': { description: '{"modelName", "modelUrl"}: unloaded' }, '404': { description: 'not loaded' } },
    },
  },
  '/models/{name}/invoke': {
    post: {
      tags: ['sagemaker'],
      summary: 'Multi-model endpoint: inference, the same bodies, content types and answers as /invocations',
      parameters: [MODEL_NAME, { name: 'X-Amzn-SageMaker-Target-Model', in: 'header', required: false, schema: { type: 'string' } }],
      requestBody: INVOCATION_BODY,
      responses: { '200': { description: 'the prediction, in the Accept type' }, '404': { description: 'the model is not loaded' } },
    },
  },
};
