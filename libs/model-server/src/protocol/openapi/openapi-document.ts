import type { ModelCatalog } from '../../inference/model-catalog';
import type { TensorSpec } from '../../model/tensor.interface';

/** An OpenAPI 3.1 document, as plain JSON. @publicApi */
export type OpenApiDocument = Record<string, unknown> & { paths: Record<string, Record<string, unknown>> };

/** Path item objects other transports add to the document (e.g. SageMaker's routes). @publicApi */
export type OpenApiPaths = Record<string, Record<string, unknown>>;

const json = (schema: unknown, example?: unknown) => ({
  'application/json': example === undefined ? { schema } : { schema, example },
});
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const errorResponse = (description: string) => ({ description, content: json(ref('Error')) });

const MODEL = { name: 'model', in: 'path', required: true, schema: { type: 'string' }, description: 'model name' };
const VERSION = { name: 'version', in: 'path', required: true, schema: { type: 'string' }, description: 'model version' };
const OP = { name: 'operation', in: 'path', required: true, schema: { type: 'string' }, description: 'a custom operation the model declares' };

const COMPONENTS = {
  schemas: {
    Error: { type: 'object', required: ['error'], properties: { error: { type: 'string', description: 'what went wrong and how to fix it' } } },
    Parameters: { type: 'object', additionalProperties: true },
    RequestTensor: {
      type: 'object',
      required: ['name', 'shape', 'datatype'],
      properties: {
        name: { type: 'string' },
        shape: { type: 'array', items: { type: 'integer', minimum: 0 } },
        datatype: {
          type: 'string',
          enum: ['BOOL', 'UINT8', 'UINT16', 'UINT32', 'UINT64', 'INT8', 'INT16', 'INT32', 'INT64', 'FP16', 'BF16', 'FP32', 'FP64', 'BYTES'],
        },
        parameters: ref('Parameters'),
        data: { description: 'flat or nested (row-major) values; count must equal the product of shape', type: 'array', items: {} },
      },
    },
    ResponseTensor: {
      type: 'object',
      required: ['name', 'shape', 'datatype'],
      properties: {
        name: { type: 'string' },
        shape: { type: 'array', items: { type: 'integer' } },
        datatype: { type: 'string' },
        parameters: ref('Parameters'),
        data: { type: 'array', items: {} },
      },
    },
    InferenceRequest: {
      type: 'object',
      required: ['inputs'],
      properties: {
        id: { type: 'string' },
        parameters: ref('Parameters'),
        inputs: { type: 'array', minItems: 1, items: ref('RequestTensor') },
        outputs: { type: 'array', items: { type: 'object', required: ['name'], properties: { name: { type: 'string' }, parameters: ref('Parameters') } } },
      },
    },
    InferenceResponse: {
      type: 'object',
      required: ['model_name', 'id', 'outputs'],
      properties: {
        model_name: { type: 'string' },
        model_version: { type: 'string' },
        id: { type: 'string' },
        parameters: ref('Parameters'),
        outputs: { type: 'array', items: ref('ResponseTensor') },
      },
    },
    TensorMetadata: { type: 'object', properties: { name: { type: 'string' }, datatype: { type: 'string' }, shape: { type: 'array', items: { type: 'integer' } } } },
    ModelMetadata: {
      type: 'object',
      required: ['name', 'platform', 'inputs', 'outputs'],
      properties: {
        name: { type: 'string' },
        versions: { type: 'array', items: { type: 'string' } },
        platform: { type: 'string' },
        inputs: { type: 'array', items: ref('TensorMetadata') },
        outputs: { type: 'array', items: ref('TensorMetadata') },
        state: { type: 'string', enum: ['loading', 'ready', 'failed', 'unloading', 'unloaded'] },
        error: { type: 'string' },
      },
    },
  },
};

/** What the repository load / unload routes answer. */
const CONTROL_ANSWERS = {
  '200': { description: 'its versions and states' },
  '403': errorResponse('model control is off (modelControl)'),
  '404': errorResponse('unknown model'),
  '415': errorResponse('not sent as application/json'),
};

/** An example request for a model's declared inputs (-1 dims become 1), or a generic one. */
function exampleRequest(inputs: readonly TensorSpec[]): unknown {
  if (inputs.length === 0) return { inputs: [{ name: 'input-0', datatype: 'FP32', shape: [1, 4], data: [5.1, 3.5, 1.4, 0.2] }] };
  return {
    inputs: inputs.map((spec) => {
      const shape = spec.shape.map((d) => (d < 0 ? 1 : d));
      const count = shape.reduce((a, b) => a * b, 1);
      const value = spec.datatype === 'BYTES' ? 'text' : spec.datatype === 'BOOL' ? true : 1;
      return { name: spec.name, datatype: spec.datatype, shape, data: new Array(Math.min(count, 64)).fill(value) };
    }),
  };
}

function modelRoutes(examples: Record<string, unknown>, versioned: boolean): OpenApiPaths {
  const base = versioned ? '/v2/models/{model}/versions/{version}' : '/v2/models/{model}';
  const params = versioned ? [MODEL, VERSION] : [MODEL];
  const tag = versioned ? 'model versions' : 'models';
  const notFound = errorResponse('unknown model or version');
  const inferBody = { required: true, content: { 'application/json': { schema: ref('InferenceRequest'), examples } } };
  const inferAnswers = {
    '200': { description: 'the inference response', content: json(ref('InferenceResponse')) },
    '400': errorResponse('malformed request, or values that do not fit the model'),
    '404': notFound,
    '413': errorResponse('body over the configured limit (maxBodyBytes)'),
    '415': errorResponse('unsupported content type or encoding'),
    '503': errorResponse('model not ready (Retry-After while loading), or overloaded'),
    '504': errorResponse('the request deadline passed'),
  };
  return {
    [base]: { get: { tags: [tag], summary: 'Model metadata', parameters: params, responses: { '200': { description: 'metadata', content: json(ref('ModelMetadata')) }, '404': notFound } } },
    [`${base}/ready`]: {
      get: { tags: [tag], summary: 'Model readiness', parameters: params, responses: { '200': { description: 'ready' }, '503': errorResponse('not ready'), '404': notFound } },
    },
    [`${base}/infer`]: { post: { tags: [tag], summary: 'Inference', operationId: versioned ? 'inferVersion' : 'infer', parameters: params, requestBody: inferBody, responses: inferAnswers } },
    [`${base}/explain`]: { post: { tags: [tag], summary: 'Explanation (same request shape as infer)', parameters: params, requestBody: inferBody, responses: inferAnswers } },
    [`${base}/{member}/infer`]: {
      post: {
        tags: [tag],
        summary: 'Inference pinned to one member of a router (VotingEnsemble, ParallelRun, TrafficSplit)',
        parameters: [...params, { name: 'member', in: 'path', required: true, schema: { type: 'string' }, description: 'a member of the router' }],
        requestBody: inferBody,
        responses: inferAnswers,
      },
    },
    [`${base}/{operation}`]: {
      post: {
        tags: [tag],
        summary: 'A custom operation the model declares with @Operation',
        parameters: [...params, OP],
        requestBody: { required: false, content: json({}) },
        responses: { '200': { description: 'the operation\'s answer', content: json({}) }, '404': errorResponse('unknown model, version or operation') },
      },
    },
  };
}

/**
 * The OpenAPI document of the REST API: the v2 routes, per-model metadata as examples (unless `withModels` is
 * false: a document served without credentials while the models are protected names none), and the paths
 * other transports contribute.
 *
 * @publicApi
 */
export function buildOpenApiDocument(catalog: ModelCatalog, extraPaths: OpenApiPaths, withModels = true): OpenApiDocument {
  const server = catalog.serverMetadata();
  const examples: Record<string, unknown> = {};
  const descriptions: string[] = [];
  if (!withModels) {
    examples.request = { summary: 'an inference request', value: exampleRequest([]) };
    descriptions.push('(the models are listed by GET /v2/models, with credentials)');
  }
  for (const model of withModels ? catalog.listModels().models : []) {
    const meta = catalog.modelMetadata(model.name, undefined);
    examples[model.name] = { summary: `${model.name} (${meta.platform})`, value: exampleRequest(meta.inputs) };
    const versions = model.versions.map((v) => `${v.version ?? '(unversioned)'}: ${v.state}`).join(', ');
    descriptions.push(`- **${model.name}** (${meta.platform}; ${versions}) inputs: ${meta.inputs.map((i) => `${i.name} ${i.datatype} [${i.shape.join(',')}]`).join(', ') || 'any'}`);
  }
  const health = (summary: string, key: string) => ({
    get: { tags: ['server'], summary, responses: { '200': { description: `{"${key}":true}` }, '503': { description: `{"${key}":false,...}` } } },
  });
  return {
    openapi: '3.1.0',
    info: {
      title: `${server.name} REST API`,
      version: server.version,
      description: `KServe v2 / Open Inference Protocol. Extensions: ${server.extensions.join(', ') || 'none'}.\n\nModels served:\n${descriptions.join('\n')}`,
    },
    paths: {
      '/v2': { get: { tags: ['server'], summary: 'Server metadata', responses: { '200': { description: 'name, version, extensions' } } } },
      '/v2/health/live': health('Liveness', 'live'),
      '/v2/health/ready': health('Readiness (every configured model ready)', 'ready'),
      '/v2/models': { get: { tags: ['server'], summary: 'Models, their versions and states', responses: { '200': { description: 'listing' } } } },
      '/v2/repository/index': {
        post: { tags: ['repository'], summary: 'Repository index (Triton extension)', requestBody: { required: false, content: json({ type: 'object', properties: { ready: { type: 'boolean' } } }) }, responses: { '200': { description: 'rows' } } },
      },
      '/v2/repository/models/{model}/load': { post: { tags: ['repository'], summary: 'Load or reload a model', parameters: [MODEL], responses: CONTROL_ANSWERS } },
      '/v2/repository/models/{model}/unload': { post: { tags: ['repository'], summary: 'Unload a model', parameters: [MODEL], responses: CONTROL_ANSWERS } },
      ...modelRoutes(examples, false),
      ...modelRoutes(examples, true),
      ...extraPaths,
    },
    components: COMPONENTS,
  };
}
