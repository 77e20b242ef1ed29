import { MessageChannel } from 'node:worker_threads';
import { pinnedBuffers, prepareData, restoreData } from './tensor-transfer.util';

/** Posts `value` through a MessageChannel with `transfer` and resolves with what arrives. */
function roundTrip(value: unknown, transfer: ArrayBuffer[]): Promise<unknown> {
  const { port1, port2 } = new MessageChannel();
  return new Promise((resolve) => {
    port2.once('message', (msg) => {
      port1.close();
      resolve(msg);
    });
    port1.postMessage(value, transfer);
  });
}

describe('tensor transfer', () => {
  it('moves a typed array that owns its buffer: transferred, not copied (the sender is left empty)', async () => {
    const data = new Float32Array([1, 2, 3]);
    const transfer: ArrayBuffer[] = [];
    const prepared = prepareData(data, transfer, () => true);
    expect(prepared).toEqual({ data, moved: true });
    expect(transfer).toEqual([data.buffer]);
    const arrived = (await roundTrip(prepared.data, transfer)) as Float32Array;
    expect(Array.from(arrived)).toEqual([1, 2, 3]);
    expect(data.length).toBe(0); // detached: the memory itself moved
  });

  it('moves a shared buffer once for several views, which keep sharing it on the other side', async () => {
    const buffer = new ArrayBuffer(16);
    const a = new Int32Array(buffer, 0, 2);
    const b = new Int32Array(buffer, 8, 2);
    a.set([1, 2]);
    b.set([3, 4]);
    const transfer: ArrayBuffer[] = [];
    const pa = prepareData(a, transfer, () => true);
    const pb = prepareData(b, transfer, () => true);
    expect(transfer).toEqual([buffer]);
    const [ra, rb] = (await roundTrip([pa.data, pb.data], transfer)) as Int32Array[];
    expect([Array.from(ra), Array.from(rb)]).toEqual([[1, 2], [3, 4]]);
    expect(ra.buffer).toBe(rb.buffer);
  });

  it('copies only its own bytes when the buffer must stay (BYTES elements live in it)', () => {
    const body = Buffer.alloc(64);
    const numbers = new Float64Array(body.buffer, body.byteOffset + 8, 2);
    const pinned = pinnedBuffers([{ data: [body.subarray(40, 44)] }]);
    const transfer: ArrayBuffer[] = [];
    const prepared = prepareData(numbers, transfer, (view) => pinned === null || !pinned.has(view.buffer));
    expect(prepared.moved).toBe(false);
    expect((prepared.data as Float64Array).buffer.byteLength).toBe(16);
    expect(transfer).toEqual([(prepared.data as Float64Array).buffer]);
  });

  it('packs BYTES into one blob and gives back Buffers with the same (non-UTF-8) bytes', async () => {
    const items = [Buffer.from([0xff, 0x00]), Buffer.from(''), Buffer.from('ok')];
    const transfer: ArrayBuffer[] = [];
    const prepared = prepareData(items, transfer, () => true);
    expect(transfer).toHaveLength(2);
    const back = restoreData(await roundTrip(prepared.data, transfer)) as Buffer[];
    expect(back.every((b) => Buffer.isBuffer(b))).toBe(true);
    expect(back).toEqual(items);
  });

  it('leaves plain values to structured cloning', () => {
    const transfer: ArrayBuffer[] = [];
    expect(prepareData([1, 2, 3], transfer, () => true)).toEqual({ data: [1, 2, 3], moved: false });
    expect(transfer).toEqual([]);
  });
});
