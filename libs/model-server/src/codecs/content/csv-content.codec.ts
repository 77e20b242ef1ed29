import { Injectable } from '@nestjs/common';
import { invalidRequest } from '../../errors/errors';
import type { InferenceResponse } from '../../model/inference.interface';
import type { Tensor } from '../../model/tensor.interface';
import type { ContentCodec, ContentTarget, DecodedContent, EncodeContext, MediaTypeParams } from './content-codec.interface';
import { notAcceptable } from './content-error.util';
import { rowsInput } from './rows.util';
import { elementTexts, rowSize } from './tensor-text.util';

const TYPE = 'text/csv';
const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const INTEGER = /^[+-]?\d+$/;

function field(raw: string): string {
  const t = raw.trim();
  return t.length >= 2 && t.startsWith('"') && t.endsWith('"') ? t.slice(1, -1).trim() : t;
}

/**
 * `text/csv`: rows of numbers in, one line per row out (RFC 4180, no header unless the media type says
 * `header=present`).
 *
 * - Reading: every non-blank line is a row of comma-separated numbers (quoted numbers accepted) for the model's one
 *   input: shape [rows, columns], or [rows] when the model declares a 1-D input and each line has one value.
 *   64-bit integer inputs are read exactly. A field that is not a number, or lines of different lengths, is a 400.
 * - Writing: one line per row of the response; a line holds the row of every output in turn (e.g.
 *   `0,setosa,1,0,0` for class, label and three probabilities). Outputs with different row counts cannot be
 *   written as rows (406). `header=present` in `Accept` adds a header line (`class,label,probabilities_0,...`).
 *
 * @publicApi
 */
@Injectable()
export class CsvContentCodec implements ContentCodec {
  readonly mediaTypes: readonly string[] = [TYPE];

  decode(body: Buffer, target: ContentTarget, params: MediaTypeParams): DecodedContent {
    const input = rowsInput(target, TYPE);
    let text = body.toString('utf8');
    if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    const lines = text.split('\n');
    const exact = input.datatype === 'INT64' || input.datatype === 'UINT64';
    const values: (number | bigint)[] = [];
    let columns = -1;
    let rows = 0;
    let firstLine = 0;
    let skipHeader = params.header === 'present';
    for (let l = 0; l < lines.length; l++) {
      const line = lines[l].endsWith('\r') ? lines[l].slice(0, -1) : lines[l];
      if (line.trim() === '') continue;
      if (skipHeader) {
        skipHeader = false;
        continue;
      }
      const fields = line.split(',');
      if (columns === -1) {
        columns = fields.length;
        firstLine = l + 1;
      } else if (fields.length !== columns) {
        throw invalidRequest(`CSV line ${l + 1} has ${fields.length} fields, but line ${firstLine} has ${columns}; every row needs the same number`);
      }
      for (let c = 0; c < fields.length; c++) {
        const f = field(fields[c]);
        if (exact && INTEGER.test(f)) values.push(BigInt(f));
        else if (DECIMAL.test(f)) values.push(Number(f));
        else throw invalidRequest(`CSV line ${l + 1}, field ${c + 1}: ${f === '' ? 'empty' : JSON.stringify(f.slice(0, 40))} is not a number`);
      }
      rows++;
    }
    if (rows === 0) throw invalidRequest('the CSV body has no rows; send one line of comma-separated numbers per row');
    const flat = columns === 1 && input.shape !== undefined && input.shape.length === 1;
    const shape = flat ? [rows] : [rows, columns];
    return { request: { inputs: [{ name: input.name, datatype: input.datatype, shape, data: exact ? values : Float64Array.from(values as number[]) }] }, format: 'rows' };
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
