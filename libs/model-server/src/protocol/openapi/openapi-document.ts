import type { ModelCatalog } from '../../inference/model-catalog';
import type { TensorSpec } from '../../model/tensor.interface';
import { V2_ROUTES, type V2Schema } from '../v2/rest/v2-routes.table';

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

/** A `:param` of a table path as an OpenAPI parameter. */
const PARAMETERS: Record<string, Record<string, unknown>> = {
  model: MODEL,
  version: VERSION,
  op: OP,
  member: { name: 'member', in: 'path', required: true, schema: { type: 'string' }, description: 'a member of the router' },
};

function schemaOf(name: V2Schema): unknown {
  switch (name) {
    case 'Any':
      return {};
    case 'RepositoryIndexRequest':
      return { type: 'object', properties: { ready: { type: 'boolean' } } };
    case 'GenerateRequest':
      return {
        type: 'object',
        description: 'input fields by name (text, number, true/false or a flat list), e.g. text_input',
        properties: { id: { type: 'string' }, text_input: { type: 'string' }, parameters: { type: 'object' } },
        additionalProperties: true,
      };
    case 'GenerateResponse':
      return {
        type: 'object',
        description: 'output fields by name, e.g. text_output',
        properties: { id: { type: 'string' }, model_name: { type: 'string' }, model_version: { type: 'string' }, text_output: { type: 'string' } },
        additionalProperties: true,
      };
    default:
      return ref(name);
  }
}

/** The v2 routes of the table as OpenAPI path items, infer-like bodies with the models' examples. */
function v2Paths(examples: Record<string, unknown>): OpenApiPaths {
  const paths: OpenApiPaths = {};
  for (const route of V2_ROUTES) {
    const doc = route.doc;
    const params = [...route.path.matchAll(/:([a-z]+)/g)].map((m) => PARAMETERS[m[1]]);
    const path = route.path.replace(/:([a-z]+)/g, (_m, name: string) => `{${name === 'op' ? 'operation' : name}}`);
    const responses: Record<string, unknown> = {};
    for (const [status, description] of Object.entries(doc.answers)) {
      responses[status] = status === '200' ? (doc.ok === undefined ? { description } : { description, content: json(schemaOf(doc.ok)) }) : errorResponse(description);
    }
    const operation: Record<string, unknown> = { tags: [doc.tag], summary: doc.summary, responses };
    if (doc.operationId !== undefined) operation.operationId = doc.operationId;
    if (params.length > 0) operation.parameters = params;
    if (doc.body !== undefined) {
      const content = doc.body.schema === 'InferenceRequest' ? { 'application/json': { schema: ref('InferenceRequest'), examples } } : json(schemaOf(doc.body.schema));
      operation.requestBody = { required: doc.body.required, content };
    }
    (paths[path] ??= {})[route.method.toLowerCase()] = operation;
  }
  return paths;
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
  return {
    openapi: '3.1.0',
    info: {
      title: `${server.name} REST API`,
      version: server.version,
      description: `KServe v2 / Open Inference Protocol. Extensions: ${server.extensions.join(', ') || 'none'}.\n\nModels served:\n${descriptions.join('\n')}`,
    },
    paths: {
      ...v2Paths(examples),
      ...extraPaths,
    },
    components: COMPONENTS,
  };
}
