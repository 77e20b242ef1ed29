import { writeJsonData } from '../json-data.writer';
import { stringifyJson } from '../lossless-json';
import { tensorToRaw } from '../raw-data.encoder';
import type { InferenceResponse } from '../../model/inference.interface';

/**
 * Texts written for monitoring records just before the transport answers (see {@link serializeAndKeep}): the
 * last few responses and their texts, matched by identity. A monitoring event is emitted as the request
 * completes, a few microtasks before its transport writes the answer, so a short ring finds it; a miss only
 * means writing the text again. Response objects are made fresh for each request and never changed once
 * encoded, so a kept text stays true. (A ring costs far less than a WeakMap, whose entries the garbage
 * collector has to trace on every scavenge.)
 */
const KEPT = 16;
const keptResponses: (InferenceResponse | null)[] = new Array<InferenceResponse | null>(KEPT).fill(null);
const keptTexts: string[] = new Array<string>(KEPT).fill('');
let keptNext = 0;
/** Texts in the ring not taken yet (a lookup is skipped while there are none). */
let kept = 0;

/**
 * {@link serializeInferenceResponse}, keeping the text so that the transport's own call for the same response
 * object returns it without writing the tensors again (a monitoring record's `resp` is then byte for byte what
 * the client gets). Throws as the serializer does (values JSON cannot carry).
 *
 * @internal
 */
export function serializeAndKeep(response: InferenceResponse): string {
  const text = writeResponse(response, null);
  if (keptResponses[keptNext] === null) kept++;
  keptResponses[keptNext] = response;
  keptTexts[keptNext] = text;
  keptNext = (keptNext + 1) % KEPT;
  return text;
}

/** The kept text of `response`, given once (the slot is freed), or undefined. */
function takeKept(response: InferenceResponse): string | undefined {
  for (let i = 0; i < KEPT; i++) {
    if (keptResponses[i] !== response) continue;
    keptResponses[i] = null;
    kept--;
    const text = keptTexts[i];
    keptTexts[i] = '';
    return text;
  }
  return undefined;
}

/** Collects the outputs that travel as binary (the binary tensor extension). @internal */
export interface BinaryOutputs {
  /** Whether the output named `name` goes as binary. */
  isBinary(name: string): boolean;
  /** The binary outputs' bytes, in output order, appended as they are written. */
  readonly chunks: Uint8Array[];
}

/**
 * Writes a v2 inference response as JSON text: fields in protocol order, optional fields left out,
 * tensor data written by the codecs (64-bit integers exact, floats shortest round-trip). Outputs that
 * `binary` selects get `parameters.binary_data_size` instead of `data`, their bytes collected in it.
 *
 * @internal
 */
export function serializeInferenceResponse(response: InferenceResponse, binary: BinaryOutputs | null = null): string {
  if (binary === null && kept > 0) {
    const written = takeKept(response);
    if (written !== undefined) return written;
  }
  return writeResponse(response, binary);
}

function writeResponse(response: InferenceResponse, binary: BinaryOutputs | null): string {
  let text = '{"model_name":' + JSON.stringify(response.model_name);
  if (response.model_version !== undefined) text += ',"model_version":' + JSON.stringify(response.model_version);
  text += ',"id":' + JSON.stringify(response.id);
  if (response.parameters !== undefined) text += ',"parameters":' + stringifyJson(response.parameters);
  text += ',"outputs":[';
  const outputs = response.outputs;
  for (let i = 0; i < outputs.length; i++) {
    const t = outputs[i];
    if (i > 0) text += ',';
    text += '{"name":' + JSON.stringify(t.name) + ',"datatype":"' + t.datatype + '","shape":[' + t.shape.join(',') + ']';
    if (binary !== null && binary.isBinary(t.name)) {
      const raw = tensorToRaw(t);
      binary.chunks.push(raw);
      text += ',"parameters":' + stringifyJson({ ...t.parameters, binary_data_size: raw.byteLength }) + '}';
      continue;
    }
    if (t.parameters !== undefined) text += ',"parameters":' + stringifyJson(t.parameters);
    text += ',"data":' + writeJsonData(t, `output '${t.name}'`) + '}';
  }
  return text + ']}';
}
