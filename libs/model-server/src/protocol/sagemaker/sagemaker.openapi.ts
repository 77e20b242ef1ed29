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
      requestBody: {
        required: true,
        content: {
          'application/json': { example: { instances: [[5.1, 3.5, 1.4, 0.2]] } },
          'text/csv': { example: '5.1,3.5,1.4,0.2\n6.7,3.0,5.2,2.3\n' },
          'application/x-npy': {},
        },
      },
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
