import Ajv, { type ErrorObject } from 'ajv';
import type { WireInferenceRequest } from '../wire-tensor.interface';
import { clip } from '../../errors/clip.util';
import { invalidRequest } from '../../errors';

// Optional fields may be null: some clients serialise absent fields that way; null reads as absent.
const parameters = { type: ['object', 'null'] };

/** The structure of a v2 inference request (values are checked later, by the codecs). */
const INFERENCE_REQUEST_SCHEMA = {
  type: 'object',
  required: ['inputs'],
  properties: {
    id: { type: ['string', 'null'] },
    parameters,
    inputs: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        required: ['name', 'shape', 'datatype'],
        properties: {
          name: { type: 'string', minLength: 1 },
          shape: { type: 'array', items: { type: 'integer', minimum: 0 } },
          datatype: { type: 'string' },
          parameters,
        },
      },
    },
    outputs: {
      type: ['array', 'null'],
      items: {
        type: 'object',
        required: ['name'],
        properties: { name: { type: 'string', minLength: 1 }, parameters },
      },
    },
  },
} as const;

// Compiled once, when the module loads.
const validate = new Ajv({ allErrors: false, strict: true }).compile(INFERENCE_REQUEST_SCHEMA);

/**
 * Checks the structure of a v2 inference request body and types it; a 400 that names the field otherwise.
 *
 * @internal
 */
export function checkInferenceRequest(body: unknown): WireInferenceRequest {
  if (body === undefined) throw invalidRequest('the request body is empty; send a v2 inference request as JSON');
  if (!validate(body)) throw invalidRequest(`invalid inference request: ${describe(validate.errors?.[0])}`);
  const request = body as unknown as NullableRequest;
  if (request.id === null) delete request.id;
  if (request.parameters === null) delete request.parameters;
  if (request.outputs === null) delete request.outputs;
  for (const input of request.inputs) if (input.parameters === null) delete input.parameters;
  if (request.outputs !== undefined) for (const output of request.outputs) if (output.parameters === null) delete output.parameters;
  return request as WireInferenceRequest;
}

/** True when a body is meant as a v2 request (an object with `inputs`). @internal */
export function looksLikeInferenceRequest(body: unknown): boolean {
  return typeof body === 'object' && body !== null && !Array.isArray(body) && 'inputs' in body;
}

/** A request as the schema admits it, optional fields possibly null. */
type NullableRequest = {
  id?: string | null;
  parameters?: Record<string, unknown> | null;
  inputs: { parameters?: Record<string, unknown> | null }[];
  outputs?: { parameters?: Record<string, unknown> | null }[] | null;
};

function describe(error: ErrorObject | undefined): string {
  if (error === undefined) return 'unknown problem';
  const path = error.instancePath
    .split('/')
    .slice(1)
    .map((part) => (/^\d+$/.test(part) ? `[${part}]` : `.${part}`))
    .join('');
  const where = path === '' ? 'the body' : path.replace(/^\./, '');
  return clip(`${where} ${error.message ?? 'is invalid'}`);
}
