import { Buffer } from 'node:buffer';
import { performance } from 'node:perf_hooks';
import type { ModelServerError } from '../../errors/model-server.error';
import type { DeferredTensorData } from '../deferred-tensor-data';
import { runInSlices, type SlicedWork } from '../time-slice.util';
import { MAX_RANK, rowsErrors } from './rows.util';

/** Tokens between clock checks. */
const FUEL = 4096;

/**
 * Finds the shape of rows held as a {@link DeferredTensorData} (a large body's rows array) and checks them as
 * `flattenRows` does, with the same messages, from the bytes and in slices: no value per element.
 *
 * `flattenRows` checks rows in order, each before the rows inside it: its length, then the kinds of its elements
 * (a list's elements must be lists, reported from the last; the deepest rows' must be values, reported from the
 * first). Scanning the bytes, a row is judged when it closes; the error kept is its own if it has one, else the first
 * one found inside it, which is the one `flattenRows` reaches first.
 *
 * @internal
 */
class RowsShapeScanner implements SlicedWork {
  /** The lengths of the first row at each depth (known once that row closes: the first row to close at its depth). */
  readonly shape: number[];
  private readonly rank: number;
  private p: number;
  /** Depth of the innermost open row being judged (-1 before the first). */
  private depth = -1;
  /** Open lists below the deepest rows (or objects anywhere), whose contents are not looked at. */
  private skip = 0;
  private readonly counts = new Array<number>(MAX_RANK).fill(0);
  private readonly indices = new Array<number>(MAX_RANK).fill(0);
  /** For a list of lists: the last element that is not a list. For the deepest rows: the first that is not a value. */
  private readonly bad = new Array<number>(MAX_RANK).fill(-1);
  private readonly badIsObject = new Array<boolean>(MAX_RANK).fill(false);
  /** The first error found inside each open row. */
  private readonly inner = new Array<ModelServerError | null>(MAX_RANK).fill(null);

  constructor(
    private readonly span: DeferredTensorData,
    private readonly where: string,
  ) {
    this.p = span.start;
    this.rank = this.firstRowDepth();
    this.shape = new Array<number>(this.rank).fill(-1);
  }

  /** The rank: lists along the first elements from the root until a value or an empty list. */
  private firstRowDepth(): number {
    const b = this.span.body;
    let p = this.span.start;
    let rank = 0;
    for (;;) {
      if (rank >= MAX_RANK) throw rowsErrors.tooDeep(this.where);
      rank++;
      p++;
      while (b[p] === 0x20 || b[p] === 0x0a || b[p] === 0x0d || b[p] === 0x09) p++;
      if (b[p] !== 0x5b) return rank;
    }
  }

  step(deadline: number): boolean {
    const b = this.span.body;
    const end = this.span.end;
    let p = this.p;
    let fuel = FUEL;
    while (p < end) {
      if (--fuel === 0) {
        fuel = FUEL;
        if (performance.now() > deadline) break;
      }
      const c = b[p];
      if (c === 0x2c || c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) {
        p++;
        continue;
      }
      if (this.skip > 0) {
        if (c === 0x22) p = stringEnd(b, p);
        else {
          if (c === 0x5b || c === 0x7b) this.skip++;
          else if (c === 0x5d || c === 0x7d) this.skip--;
          p++;
        }
        continue;
      }
      if (c === 0x5b) {
        this.openList();
        p++;
      } else if (c === 0x5d) {
        this.closeList();
        p++;
      } else if (c === 0x7b) {
        this.element(true, true);
        this.skip = 1;
        p++;
      } else {
        this.element(false, false);
        p = c === 0x22 ? stringEnd(b, p) : valueEnd(b, p);
      }
    }
    this.p = p;
    return p >= end;
  }

  /** An element of the innermost row that is not a list (an object when `object`). */
  private element(object: boolean, notValue: boolean): void {
    const d = this.depth;
    const i = this.counts[d]++;
    if (d < this.rank - 1) this.bad[d] = i;
    else if (notValue && this.bad[d] < 0) {
      this.bad[d] = i;
      this.badIsObject[d] = object;
    }
  }

  private openList(): void {
    const d = this.depth;
    if (d >= 0) {
      const i = this.counts[d]++;
      if (d === this.rank - 1) {
        // A list where the deepest rows hold values: judged with its row, its contents skipped.
        if (this.bad[d] < 0) {
          this.bad[d] = i;
          this.badIsObject[d] = false;
        }
        this.skip = 1;
        return;
      }
      this.indices[d] = i;
    }
    const depth = d + 1;
    this.depth = depth;
    this.counts[depth] = 0;
    this.bad[depth] = -1;
    this.inner[depth] = null;
  }

  private closeList(): void {
    const d = this.depth;
    const count = this.counts[d];
    if (this.shape[d] < 0) this.shape[d] = count;
    let error: ModelServerError | null = null;
    if (count !== this.shape[d]) error = rowsErrors.length(this.where, this.indices, d, count, this.shape[d]);
    else if (this.bad[d] >= 0) {
      const i = this.bad[d];
      if (d < this.rank - 1) error = rowsErrors.value(this.where, this.indices, d, i);
      else error = this.badIsObject[d] ? rowsErrors.object(this.where, this.indices, d, i) : rowsErrors.deeper(this.where, this.indices, d, i);
    }
    error ??= this.inner[d];
    this.depth = d - 1;
    if (error === null) return;
    if (d === 0) throw error;
    if (this.inner[d - 1] === null) this.inner[d - 1] = error;
  }
}

/** The offset after the string whose quote is at `p` (well-formed). */
function stringEnd(b: Buffer, p: number): number {
  p++;
  for (;;) {
    const c = b[p];
    if (c === 0x22) return p + 1;
    p += c === 0x5c ? 2 : 1;
  }
}

/** The offset after the number or literal at `p`. */
function valueEnd(b: Buffer, p: number): number {
  for (;;) {
    const c = b[++p];
    if (c === 0x2c || c === 0x5d || c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09 || c === undefined) return p;
  }
}

/**
 * The shape of rows held as `span`, checked to be rectangular (a 400 with `flattenRows`'s message otherwise), found
 * in slices. Their values are then the span's elements, in order.
 *
 * @internal
 */
export async function rowsShape(span: DeferredTensorData, where: string): Promise<number[]> {
  const scanner = new RowsShapeScanner(span, where);
  await runInSlices(scanner);
  return scanner.shape;
}
