import { Buffer } from 'node:buffer';
import { Injectable } from '@nestjs/common';
import type { InferenceResponse } from '../../model/inference.interface';
import type { Tensor } from '../../model/tensor.interface';
import { TensorBudget } from '../tensor-budget';
import type { ContentCodec, ContentInput, ContentTarget, DecodedContent, EncodeContext, MediaTypeParams } from './content-codec.interface';
import { CsvBodyReader } from './csv-body.reader';
import { rowsInput } from './rows.util';
import { elementTexts, rowSize } from './tensor-text.util';
import { invalidRequest, notAcceptable } from '../../errors';

const TYPE = 'text/csv';

/** Bytes read between two yields to the event loop: a larger body is decoded in slices of this size. */
const SLICE_BYTES = 1024 * 1024;

/** Lets the event loop run (health probes, other requests) between slices of a large body. */
function yieldToLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * `text/csv`: rows of numbers in, one line per row out (RFC 4180, no header unless the media type says
 * `header=present`).
 *
 * - Reading: every non-blank line is a row of comma-separated numbers (quoted numbers accepted) for the model's one
 *   input: shape [rows, columns], or [rows] when the model declares a 1-D input and each line has one value.
 *   Values go straight into the container of the input's datatype (a Float32Array for FP32, a BigInt64Array of
 *   exact integers for INT64, ...) with the checks decoding makes for it. A field that is not a finite number or
 *   does not fit the datatype, an integer of more than 20 digits, a field over 1024 bytes, lines of different
 *   lengths, and a BYTES input are 400s. The body is read in two linear passes (rows and columns first, then the values
 *   straight into one typed array, whose size is taken from the request's tensor budget before it is allocated);
 *   a body over 1 MiB is read in 1 MiB slices with the event loop free in between (decode then returns a Promise).
 * - Writing: one line per row of the response; a line holds the row of every output in turn (e.g.
 *   `0,setosa,1,0,0` for class, label and three probabilities). Outputs with different row counts cannot be
 *   written as rows (406). `header=present` in `Accept` adds a header line (`class,label,probabilities_0,...`).
 *
 * @publicApi
 */
@Injectable()
export class CsvContentCodec implements ContentCodec {
  readonly mediaTypes: readonly string[] = [TYPE];

  decode(body: Buffer, target: ContentTarget, params: MediaTypeParams): DecodedContent | Promise<DecodedContent> {
    const input = rowsInput(target, TYPE);
    const dt = input.datatype;
    if (dt === 'BYTES') {
      throw invalidRequest(`text/csv carries numbers, but input '${input.name}' of model '${target.model}' is BYTES; send a v2 request as application/json`);
    }
    const reader = new CsvBodyReader(body, params.header === 'present', dt);
    const budget = new TensorBudget(target.maxTensorBytes);
    if (body.length <= SLICE_BYTES) {
      reader.count(body.length);
      reader.allocate(budget, `input '${input.name}'`);
      reader.fill(body.length);
      return decoded(reader, input);
    }
    return decodeInSlices(reader, budget, input);
  }

  encode(response: InferenceResponse, context: EncodeContext): string {
    const outputs = response.outputs;
    if (outputs.length === 0) return '';
    const rows = rowCount(outputs);
    const texts = outputs.map((t) => elementTexts(t, 'csv', `output '${t.name}'`));
    const sizes = outputs.map((t) => rowSize(t.shape));
    const lines: string[] = [];
    if (context.params.header === 'present') lines.push(header(outputs, sizes));
    for (let r = 0; r < rows; r++) {
      const fields: string[] = [];
      for (let k = 0; k < outputs.length; k++) {
        const size = sizes[k];
        for (let i = r * size; i < (r + 1) * size; i++) fields.push(texts[k][i]);
      }
      lines.push(fields.join(','));
    }
    return lines.length === 0 ? '' : lines.join('\n') + '\n';
  }
}

/** The body read slice by slice, yielding to the event loop in between. */
async function decodeInSlices(reader: CsvBodyReader, budget: TensorBudget, input: ContentInput): Promise<DecodedContent> {
  while (!reader.count(SLICE_BYTES)) await yieldToLoop();
  reader.allocate(budget, `input '${input.name}'`);
  await yieldToLoop();
  while (!reader.fill(SLICE_BYTES)) await yieldToLoop();
  return decoded(reader, input);
}

/** The request of a read body: one [rows, columns] tensor ([rows] for a declared 1-D input of one column). */
function decoded(reader: CsvBodyReader, input: ContentInput): DecodedContent {
  const flat = reader.columns === 1 && input.shape !== undefined && input.shape.length === 1;
  const shape = flat ? [reader.rows] : [reader.rows, reader.columns];
  return { request: { inputs: [{ name: input.name, datatype: input.datatype, shape, data: reader.data }] }, format: 'rows' };
}

/** The rows every output shares (1 when every output is a scalar), or a 406. */
function rowCount(outputs: readonly Tensor[]): number {
  if (outputs.every((t) => t.shape.length === 0)) return 1;
  const rows = outputs[0].shape.length > 0 ? outputs[0].shape[0] : -1;
  for (const t of outputs) {
    if (t.shape.length === 0 || t.shape[0] !== rows) {
      const shapes = outputs.map((o) => `'${o.name}' [${o.shape.join(',')}]`).join(', ');
      throw notAcceptable(`the outputs (${shapes}) do not share a row count, so they cannot be written as CSV rows; ask for application/json`);
    }
  }
  return rows;
}

function header(outputs: readonly Tensor[], sizes: readonly number[]): string {
  const names: string[] = [];
  for (let k = 0; k < outputs.length; k++) {
    const name = outputs[k].name;
    if (outputs[k].shape.length <= 1) names.push(name);
    else for (let i = 0; i < sizes[k]; i++) names.push(`${name}_${i}`);
  }
  return names.map((n) => (/[",\r\n]/.test(n) ? `"${n.replace(/"/g, '""')}"` : n)).join(',');
}
