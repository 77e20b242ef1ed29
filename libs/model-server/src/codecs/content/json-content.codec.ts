import { Buffer } from 'node:buffer';
import { performance } from 'node:perf_hooks';
import { Injectable } from '@nestjs/common';
import type { InferenceResponse } from '../../model/inference.interface';
import { DEFAULT_REQUEST_LIMITS } from '../../inference/request-limits';
import { decodeDeferredData } from '../deferred-data.decoder';
import { inferDeferredDatatype } from '../deferred-datatype.util';
import { DeferredTensorData } from '../deferred-tensor-data';
import { LARGE_JSON_BODY_BYTES, parseLargeJsonBody } from '../json-body.parser';
import { ROWS_SPANS } from '../json-body.scanner';
import { TensorBudget } from '../tensor-budget';
import { parseJson } from '../lossless-json';
import { runInSlices, type SlicedWork } from '../time-slice.util';
import { isLargeResponse, serializeInferenceResponse, serializeInferenceResponseChunks } from '../v2-json/v2-json.serializer';
import { checkInferenceRequest } from '../v2-json/v2-request.schema';
import type { ContentCodec, ContentTarget, DecodedContent, EncodeContext, MediaTypeParams } from './content-codec.interface';
import { rowsInput, rowsToInputs } from './rows.util';
import { rowsShape } from './rows-span.scanner';
import { elementTexts, nestedJson, outputsJson, rowSize } from './tensor-text.util';
import { invalidRequest } from '../../errors';

const TYPE = 'application/json';

const SHAPES = 'a v2 request {"inputs": [{"name", "datatype", "shape", "data"}]}, rows [[...], ...] or {"instances": [[...], ...]}';

/** True when `inputs` holds v2 tensors (objects) rather than rows. */
function isV2Inputs(inputs: readonly unknown[]): boolean {
  const first = inputs[0];
  return inputs.length === 0 || (typeof first === 'object' && first !== null && !Array.isArray(first));
}

/**
 * `application/json` in the shapes clients send: a whole v2 inference request, bare rows (`[[5.1, 3.5], ...]`,
 * one value per row when flat) or TF-Serving-style `{"instances": [...]}` (also `{"inputs": [[...]]}`), rows filling
 * the model's one input with its declared datatype. A v2 request is answered with a v2 response; rows with
 * `{"predictions": ...}`: the one output nested by its shape, or, with several outputs sharing their first
 * dimension, one object per row (`{"class": 0, "label": "setosa", ...}`), else an object of outputs.
 *
 * A large body (64 KiB and more) is read in slices, without a JS value per element: the rows' shape is found and
 * checked from the bytes, and the rows (or a v2 request's `inputs[i].data`) are decoded from the bytes straight into
 * typed containers, their size taken from the request's tensor budget first.
 *
 * @publicApi
 */
@Injectable()
export class JsonContentCodec implements ContentCodec {
  readonly mediaTypes: readonly string[] = [TYPE];

  /**
   * Reads a body. A large one answers a promise, its tensor data decoded from the body's bytes with `budget` (the
   * request's tensor budget; by default one of the default `maxTensorBytes`).
   */
  decode(body: Buffer, target: ContentTarget, _params?: MediaTypeParams, budget?: TensorBudget): DecodedContent | Promise<DecodedContent> {
    if (body.length === 0) throw invalidRequest(`the body is empty; send JSON: ${SHAPES}`);
    if (body.length >= LARGE_JSON_BODY_BYTES) return this.decodeLarge(body, target, budget ?? new TensorBudget(DEFAULT_REQUEST_LIMITS.maxTensorBytes));
    const value = parseJson(body.toString('utf8'));
    if (Array.isArray(value)) return this.rows(value, target, 'the body');
    if (typeof value === 'object' && value !== null) {
      const object = value as Record<string, unknown>;
      const inputs = object.inputs;
      if (Array.isArray(inputs) && isV2Inputs(inputs)) return { request: checkInferenceRequest(value), format: 'v2' };
      if (Array.isArray(inputs)) return this.rows(inputs, target, '"inputs"');
      if (Array.isArray(object.instances)) return this.rows(object.instances, target, '"instances"');
      if (object.instances !== undefined) throw invalidRequest('"instances" must be a list of rows');
    }
    throw invalidRequest(`a JSON body must be ${SHAPES}`);
  }

  encode(response: InferenceResponse, context: EncodeContext): string | Promise<Buffer> {
    if (context.format === 'v2') return isLargeResponse(response) ? writeLarge(response) : serializeInferenceResponse(response);
    return `{"predictions":${predictionsJson(response)}}`;
  }

  private rows(rows: readonly unknown[], target: ContentTarget, where: string): DecodedContent {
    return { request: { inputs: rowsToInputs(rows, target, where, TYPE, false) }, format: 'rows' };
  }

  /**
   * A large body: the same shapes, read in slices; the rows (their shape found and checked from the bytes) or a v2
   * request's data decoded straight from the bytes into typed containers.
   */
  private async decodeLarge(body: Buffer, target: ContentTarget, budget: TensorBudget): Promise<DecodedContent> {
    const decoded = await this.readLarge(body, target);
    await decodeDeferredData(decoded.request, budget);
    return decoded;
  }

  private async readLarge(body: Buffer, target: ContentTarget): Promise<DecodedContent> {
    const value = await parseLargeJsonBody(body, ROWS_SPANS, target.maxJsonValueBytes);
    if (value instanceof DeferredTensorData) return this.deferredRows(value, target, 'the body');
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      const object = value as Record<string, unknown>;
      const inputs = object.inputs;
      if (Array.isArray(inputs) && isV2Inputs(inputs)) return { request: checkInferenceRequest(value), format: 'v2' };
      if (inputs instanceof DeferredTensorData) return this.deferredRows(inputs, target, '"inputs"');
      if (Array.isArray(inputs)) return this.rows(inputs, target, '"inputs"');
      const instances = object.instances;
      if (instances instanceof DeferredTensorData) return this.deferredRows(instances, target, '"instances"');
      if (instances !== undefined) throw invalidRequest('"instances" must be a list of rows');
    }
    throw invalidRequest(`a JSON body must be ${SHAPES}`);
  }

  private async deferredRows(rows: DeferredTensorData, target: ContentTarget, where: string): Promise<DecodedContent> {
    const input = rowsInput(target, TYPE);
    const shape = await rowsShape(rows, where);
    const datatype = input.inferDatatype === true ? inferDeferredDatatype(rows) : input.datatype;
    return { request: { inputs: [{ name: input.name, datatype, shape, data: rows }] }, format: 'rows' };
  }
}

/** A large v2 response written in slices, its chunks then joined in slices (a copy of ~1 MiB each). */
async function writeLarge(response: InferenceResponse): Promise<Buffer> {
  const joiner = new ChunkJoiner(await serializeInferenceResponseChunks(response));
  await runInSlices(joiner);
  return joiner.result;
}

class ChunkJoiner implements SlicedWork {
  readonly result: Buffer;
  private next = 0;
  private at = 0;

  constructor(private readonly chunks: Buffer[]) {
    let total = 0;
    for (const chunk of chunks) total += chunk.length;
    this.result = Buffer.allocUnsafe(total);
  }

  step(deadline: number): boolean {
    const chunks = this.chunks;
    while (this.next < chunks.length) {
      this.at += chunks[this.next].copy(this.result, this.at);
      chunks[this.next++] = EMPTY;
      if (performance.now() > deadline) return false;
    }
    return true;
  }
}

const EMPTY = Buffer.alloc(0);

/**
 * The `predictions` of a rows answer, as JSON text: the one output nested by its shape; with several outputs
 * sharing their first dimension, one object per row; else an object of outputs.
 *
 * @internal
 */
export function predictionsJson(response: InferenceResponse): string {
  const outputs = response.outputs;
  const rows = outputs.length > 0 && outputs[0].shape.length > 0 ? outputs[0].shape[0] : -1;
  const byRow = outputs.length > 1 && rows >= 0 && outputs.every((t) => t.shape.length > 0 && t.shape[0] === rows);
  if (!byRow) return outputsJson(outputs);
  const texts = outputs.map((t) => elementTexts(t, 'json', `output '${t.name}'`));
  const keys = outputs.map((t) => JSON.stringify(t.name) + ':');
  const sizes = outputs.map((t) => rowSize(t.shape));
  const inner = outputs.map((t) => t.shape.slice(1));
  const lines = new Array<string>(rows);
  for (let r = 0; r < rows; r++) {
    let line = '{';
    for (let k = 0; k < outputs.length; k++) {
      if (k > 0) line += ',';
      line += keys[k] + nestedJson(texts[k], inner[k], r * sizes[k]);
    }
    lines[r] = line + '}';
  }
  return `[${lines.join(',')}]`;
}
