import { writeJsonData } from '../json-data.writer';
import { stringifyJson } from '../lossless-json';
import { tensorToRaw } from '../raw-data.encoder';
import type { InferenceResponse } from '../../model/inference.interface';

/**
 * Texts written for monitoring records before the transport answered (see {@link serializeAndKeep}). Response
 * objects are made fresh for each request and never changed once encoded, so a kept text stays true.
 */
const alreadyWritten = new WeakMap<InferenceResponse, string>();

/**
 * {@link serializeInferenceResponse}, keeping the text so that the transport's own call for the same response
 * object returns it without writing the tensors again (a monitoring record's `resp` is then byte for byte what
 * the client gets). Throws as the serializer does (values JSON cannot carry).
 *
 * @internal
 */
export function serializeAndKeep(response: InferenceResponse): string {
  const text = serializeInferenceResponse(response);
  alreadyWritten.set(response, text);
  return text;
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
  if (binary === null) {
    const written = alreadyWritten.get(response);
    if (written !== undefined) return written;
  }
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
