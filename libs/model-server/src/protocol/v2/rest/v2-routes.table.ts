import { MAX_SEGMENT } from '../../http/path-segment';

/** What a v2 REST route does: the {@link V2RestEndpoint} method that answers it. @internal */
export type V2Handler =
  | 'serverMetadata'
  | 'live'
  | 'ready'
  | 'listModels'
  | 'repositoryIndex'
  | 'loadModel'
  | 'unloadModel'
  | 'modelMetadata'
  | 'modelReady'
  | 'infer'
  | 'explain'
  | 'memberInfer'
  | 'generate'
  | 'generateStream'
  | 'operation'
  | 'modelPost'
  | 'memberOperation';

/** The schema a documented answer or request body refers to (OpenAPI components). @internal */
export type V2Schema = 'InferenceRequest' | 'InferenceResponse' | 'ModelMetadata' | 'RepositoryIndexRequest' | 'GenerateRequest' | 'GenerateResponse' | 'Any';

/** How a route is documented in `/openapi.json`. @internal */
export interface V2RouteDoc {
  summary: string;
  tag: 'server' | 'repository' | 'models' | 'model versions';
  operationId?: string;
  /** The request body, if the route takes one (`required`: it must be sent). */
  body?: { schema: V2Schema; required: boolean };
  /** Answers by status: a description, and for 200 the schema of the body. */
  answers: Record<string, string>;
  ok?: V2Schema;
}

/**
 * One route of the KServe v2 REST API. The Fastify door registers every row, the OpenAPI document is written
 * from the rows, and auth leaves the `open` rows to anyone.
 *
 * @internal
 */
export interface V2Route {
  method: 'GET' | 'POST';
  /** The full path with `:params` (Fastify's syntax). */
  path: string;
  handler: V2Handler;
  /**
   * The body it reads: `v2` (JSON under any content type, binary framing, compressed), `json` (application/json
   * only: routes that change the server's state, which a browser cannot send cross-site without asking first).
   */
  body?: 'v2' | 'json';
  /** Open without credentials unless auth protects health too (`protectHealth`). */
  open?: 'health';
  doc: V2RouteDoc;
}

/** The path every v2 route lives under. @internal */
export const V2_PREFIX = '/v2';
/** Where a model's routes start, and their versioned form. @internal */
export const MODEL_BASE = `${V2_PREFIX}/models/:model`;
export const VERSION_BASE = `${MODEL_BASE}/versions/:version`;

const INFER_ANSWERS = {
  '400': 'malformed request, or values that do not fit the model',
  '404': 'unknown model or version',
  '413': 'body over the configured limit (maxBodyBytes), or tensors over maxTensorBytes',
  '415': 'unsupported content type or encoding',
  '503': 'model not ready (Retry-After while loading), or overloaded',
  '504': 'the request deadline passed',
};

const CONTROL_ANSWERS = {
  '403': 'model control is off (modelControl)',
  '404': 'unknown model',
  '415': 'not sent as application/json',
};

function modelRoutes(base: string, versioned: boolean): V2Route[] {
  const tag = versioned ? 'model versions' : 'models';
  const notFound = 'unknown model or version';
  const infer = { schema: 'InferenceRequest' as const, required: true };
  const generate = { schema: 'GenerateRequest' as const, required: true };
  return [
    { method: 'GET', path: base, handler: 'modelMetadata', doc: { summary: 'Model metadata', tag, ok: 'ModelMetadata', answers: { '200': 'metadata', '404': notFound } } },
    { method: 'GET', path: `${base}/ready`, handler: 'modelReady', doc: { summary: 'Model readiness', tag, answers: { '200': 'ready', '503': 'not ready', '404': notFound } } },
    {
      method: 'POST',
      path: `${base}/infer`,
      handler: 'infer',
      body: 'v2',
      doc: { summary: 'Inference', tag, operationId: versioned ? 'inferVersion' : 'infer', body: infer, ok: 'InferenceResponse', answers: { '200': 'the inference response', ...INFER_ANSWERS } },
    },
    {
      method: 'POST',
      path: `${base}/explain`,
      handler: 'explain',
      body: 'v2',
      doc: { summary: 'Explanation (same request shape as infer)', tag, body: infer, ok: 'InferenceResponse', answers: { '200': 'the explanation', ...INFER_ANSWERS } },
    },
    {
      method: 'POST',
      path: `${base}/generate`,
      handler: 'generate',
      body: 'v2',
      doc: {
        summary: 'Generate (Triton\'s generate extension): input fields in, output fields out; a streaming model\'s parts assembled',
        tag,
        operationId: versioned ? 'generateVersion' : 'generate',
        body: generate,
        ok: 'GenerateResponse',
        answers: { '200': 'the output fields', ...INFER_ANSWERS },
      },
    },
    {
      method: 'POST',
      path: `${base}/generate_stream`,
      handler: 'generateStream',
      body: 'v2',
      doc: {
        summary: 'Generate as server-sent events: one `data:` event per partial result of the model\'s predictStream; a failure mid-stream is an `error` event',
        tag,
        operationId: versioned ? 'generateStreamVersion' : 'generateStream',
        body: generate,
        answers: { '200': 'text/event-stream of output fields', ...INFER_ANSWERS, '404': 'unknown model or version, or a model that does not stream' },
      },
    },
    {
      method: 'POST',
      path: `${base}/:member/infer`,
      handler: 'memberInfer',
      body: 'v2',
      doc: {
        summary: 'Inference pinned to one member of a router (VotingEnsemble, ParallelRun, TrafficSplit)',
        tag,
        body: infer,
        ok: 'InferenceResponse',
        answers: { '200': 'the member\'s inference response', ...INFER_ANSWERS },
      },
    },
    {
      method: 'POST',
      path: base,
      handler: 'modelPost',
      body: 'v2',
      doc: {
        summary: 'MLRun\'s model route: the body\'s "operation" (infer, explain or a custom one) runs; infer when it names none',
        tag,
        body: infer,
        ok: 'Any',
        answers: { '200': 'the operation\'s answer', ...INFER_ANSWERS },
      },
    },
    {
      method: 'POST',
      path: `${base}/predict`,
      handler: 'infer',
      body: 'v2',
      doc: { summary: 'Inference (MLRun\'s name for it)', tag, body: infer, ok: 'InferenceResponse', answers: { '200': 'the inference response', ...INFER_ANSWERS } },
    },
    {
      method: 'POST',
      path: `${base}/:member/:op`,
      handler: 'memberOperation',
      body: 'v2',
      doc: {
        summary: 'Any operation of one member of a router (explain, custom operations), answered by the member',
        tag,
        body: { schema: 'Any', required: false },
        ok: 'Any',
        answers: { '200': 'the member\'s answer', ...INFER_ANSWERS, '404': 'not a router, unknown member or operation' },
      },
    },
    {
      method: 'GET',
      path: `${base}/:member/:op`,
      handler: 'memberOperation',
      doc: { summary: 'Readiness (ready) or a custom operation of one member of a router', tag, ok: 'Any', answers: { '200': 'the member\'s answer', '404': 'not a router, unknown member or operation', '503': 'not ready' } },
    },
    {
      method: 'POST',
      path: `${base}/:op`,
      handler: 'operation',
      body: 'v2',
      doc: { summary: 'A custom operation the model declares with @Operation', tag, body: { schema: 'Any', required: false }, ok: 'Any', answers: { '200': 'the operation\'s answer', '404': 'unknown model, version or operation' } },
    },
    { method: 'GET', path: `${base}/:op`, handler: 'operation', doc: { summary: 'A custom operation, without a body', tag, ok: 'Any', answers: { '200': 'the operation\'s answer', '404': 'unknown model, version or operation' } } },
  ];
}

/** Every route of the v2 REST API. @internal */
export const V2_ROUTES: readonly V2Route[] = [
  { method: 'GET', path: V2_PREFIX, handler: 'serverMetadata', doc: { summary: 'Server metadata', tag: 'server', answers: { '200': 'name, version, extensions' } } },
  // MLRun's health routes answer the server's metadata; open like the other health routes.
  { method: 'GET', path: '/', handler: 'serverMetadata', open: 'health', doc: { summary: 'Server metadata (MLRun\'s health route)', tag: 'server', answers: { '200': 'name, version, extensions' } } },
  {
    method: 'GET',
    path: `${V2_PREFIX}/health`,
    handler: 'serverMetadata',
    open: 'health',
    doc: { summary: 'Server metadata (MLRun\'s health route)', tag: 'server', answers: { '200': 'name, version, extensions' } },
  },
  { method: 'GET', path: `${V2_PREFIX}/health/live`, handler: 'live', open: 'health', doc: { summary: 'Liveness', tag: 'server', answers: { '200': '{"live":true}' } } },
  {
    method: 'GET',
    path: `${V2_PREFIX}/health/ready`,
    handler: 'ready',
    open: 'health',
    doc: { summary: 'Readiness (every configured model ready)', tag: 'server', answers: { '200': '{"ready":true}', '503': '{"ready":false,...}' } },
  },
  { method: 'GET', path: `${V2_PREFIX}/models`, handler: 'listModels', doc: { summary: 'Models, their versions and states', tag: 'server', answers: { '200': 'listing' } } },
  {
    method: 'POST',
    path: `${V2_PREFIX}/repository/index`,
    handler: 'repositoryIndex',
    body: 'v2',
    doc: { summary: 'Repository index (Triton extension)', tag: 'repository', body: { schema: 'RepositoryIndexRequest', required: false }, answers: { '200': 'rows' } },
  },
  {
    method: 'POST',
    path: `${V2_PREFIX}/repository/models/:model/load`,
    handler: 'loadModel',
    body: 'json',
    doc: { summary: 'Load or reload a model', tag: 'repository', answers: { '200': 'its versions and states, every one ready', ...CONTROL_ANSWERS, '503': 'a version did not load: the model, its state and why' } },
  },
  {
    method: 'POST',
    path: `${V2_PREFIX}/repository/models/:model/unload`,
    handler: 'unloadModel',
    body: 'json',
    doc: { summary: 'Unload a model', tag: 'repository', answers: { '200': 'its versions and states', ...CONTROL_ANSWERS } },
  },
  ...modelRoutes(MODEL_BASE, false),
  ...modelRoutes(VERSION_BASE, true),
];

/** The paths anyone may call when auth protects everything else but health. @internal */
export const V2_OPEN_PATHS: readonly string[] = V2_ROUTES.filter((r) => r.open === 'health').map((r) => r.path);

/** The model and version a v2 infer path addresses. @internal */
export interface InferTarget {
  model: string;
  version: string | undefined;
}

const MODELS = `${V2_PREFIX}/models/`;
const INFER = '/infer';
const VERSIONS = '/versions/';

/**
 * `/v2/models/<model>[/versions/<version>]/infer` (a trailing slash allowed) as its model and version: the two
 * infer rows of the table, matched without the router. Null for any other path and for those the router must
 * judge (a query string, percent-encoding, empty or over-long segments).
 *
 * @internal
 */
export function matchInferPath(url: string): InferTarget | null {
  if (!url.startsWith(MODELS) || url.includes('?') || url.includes('%')) return null;
  const end = url.endsWith('/') ? url.length - 1 : url.length;
  if (!url.endsWith(INFER, end)) return null;
  const inner = url.slice(MODELS.length, end - INFER.length);
  const slash = inner.indexOf('/');
  const model = slash === -1 ? inner : inner.slice(0, slash);
  if (model.length === 0 || model.length > MAX_SEGMENT) return null;
  if (slash === -1) return { model, version: undefined };
  if (!inner.startsWith(VERSIONS, slash)) return null;
  const version = inner.slice(slash + VERSIONS.length);
  if (version.length === 0 || version.length > MAX_SEGMENT || version.includes('/')) return null;
  return { model, version };
}
