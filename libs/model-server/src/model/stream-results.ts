import { Buffer } from 'node:buffer';
import { ByteStrings } from './byte-strings';
import type { InferenceResult } from './inference.interface';
import type { OutputTensor } from './tensor.interface';

/**
 * The whole result of a stream of partial results, as unary routes answer a streaming model (`/infer`,
 * `/generate`, gRPC `ModelInfer`) and as a stream's monitoring record logs it. Per output name, in the order
 * names first appear: text outputs (BYTES, strings or buffers) are joined element by element, chunk after
 * chunk, into one tensor of the first chunk's shape; any other output is the last chunk's. Parameters are
 * merged, later chunks winning.
 *
 * @publicApi
 */
export function assembleResults(chunks: readonly InferenceResult[]): InferenceResult {
  const byName = new Map<string, OutputTensor[]>();
  let parameters: Record<string, unknown> | undefined;
  for (const chunk of chunks) {
    if (chunk.parameters !== undefined) parameters = { ...parameters, ...chunk.parameters };
    for (const out of chunk.outputs) {
      const list = byName.get(out.name);
      if (list === undefined) byName.set(out.name, [out]);
      else list.push(out);
    }
  }
  const outputs: OutputTensor[] = [];
  for (const parts of byName.values()) outputs.push(joined(parts));
  return parameters === undefined ? { outputs } : { outputs, parameters };
}

/** Runs a stream to its end and returns its whole result ({@link assembleResults}). @publicApi */
export async function collectResults(stream: AsyncIterable<InferenceResult>): Promise<InferenceResult> {
  const chunks: InferenceResult[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return assembleResults(chunks);
}

function joined(parts: OutputTensor[]): OutputTensor {
  const last = parts[parts.length - 1];
  const texts = parts.map(textsOf);
  if (texts.some((t) => t === null)) return last;
  const width = texts[0]!.length;
  if (texts.some((t) => t!.length !== width)) return last;
  const data: string[] = new Array<string>(width).fill('');
  for (const t of texts) for (let i = 0; i < width; i++) data[i] += t![i];
  const first = parts[0];
  return { name: first.name, datatype: 'BYTES', shape: first.shape ?? [width], data, ...(last.parameters === undefined ? {} : { parameters: last.parameters }) };
}

/** The elements of a text output as strings, or null when it is not text. */
function textsOf(out: OutputTensor): string[] | null {
  if (out.datatype !== undefined && out.datatype !== 'BYTES') return null;
  const data = out.data;
  if (data instanceof ByteStrings) return data.toStrings();
  if (!Array.isArray(data)) return null;
  const texts: string[] = [];
  for (const item of data as readonly unknown[]) {
    if (typeof item === 'string') texts.push(item);
    else if (item instanceof Uint8Array) texts.push(Buffer.from(item.buffer, item.byteOffset, item.byteLength).toString('utf8'));
    else return null;
  }
  return texts;
}
