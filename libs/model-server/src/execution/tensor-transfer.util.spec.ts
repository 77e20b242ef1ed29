import { MessageChannel } from 'node:worker_threads';
import { ByteStrings } from '../model/byte-strings';
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
    const pinned = pinnedBuffers([{ data: new ByteStrings(body.subarray(40, 44), new Uint32Array([0, 4])) }]);
    const transfer: ArrayBuffer[] = [];
    const prepared = prepareData(numbers, transfer, (view) => pinned === null || !pinned.has(view.buffer));
    expect(prepared.moved).toBe(false);
    expect((prepared.data as Float64Array).buffer.byteLength).toBe(16);
    expect(transfer).toEqual([(prepared.data as Float64Array).buffer]);
  });

  it('moves a ByteStrings as its two buffers when both may move, and gives back a ByteStrings', async () => {
    const own = Buffer.alloc(4); // a buffer of its own (not a slice of Node's pool)
    own.set([0xff, 0x00, 0x6f, 0x6b]);
    const data = new ByteStrings(own, new Uint32Array([0, 2, 2, 4]));
    const bytes = data.bytes.buffer;
    const offsets = data.offsets.buffer;
    const transfer: ArrayBuffer[] = [];
    const prepared = prepareData(data, transfer, (view) => view.byteOffset === 0 && view.byteLength === view.buffer.byteLength);
    expect(prepared.moved).toBe(false);
    expect(transfer).toHaveLength(2);
    expect(transfer[0]).toBe(bytes);
    expect(transfer[1]).toBe(offsets);
    const back = restoreData(await roundTrip(prepared.data, transfer)) as ByteStrings;
    expect(back).toBeInstanceOf(ByteStrings);
    expect(back.toArray().map((b) => [...b])).toEqual([[0xff, 0x00], [], [0x6f, 0x6b]]);
    expect(Buffer.isBuffer(back.bytes)).toBe(true);
    expect(bytes.byteLength).toBe(0); // moved, not copied
  });

  it('copies a ByteStrings whose buffers must stay (a slice of shared memory): two copies, not one per element', async () => {
    const whole = ByteStrings.from(['aa', 'b', 'cc', 'd']);
    const part = whole.slice(1, 3);
    const pinned = pinnedBuffers([{ data: part }]);
    expect(pinned).toEqual(new Set([whole.bytes.buffer, whole.offsets.buffer]));
    const transfer: ArrayBuffer[] = [];
    const prepared = prepareData(part, transfer, (view) => !pinned!.has(view.buffer));
    expect(transfer).toHaveLength(2);
    expect(transfer).not.toContain(whole.bytes.buffer);
    const back = restoreData(await roundTrip(prepared.data, transfer)) as ByteStrings;
    expect(back.toStrings()).toEqual(['b', 'cc']);
    expect([...back.offsets]).toEqual([0, 1, 3]);
    expect(whole.toStrings()).toEqual(['aa', 'b', 'cc', 'd']); // still readable here
  });

  it('packs an array of Buffers (as model code may return BYTES) and gives back a ByteStrings with the same bytes', async () => {
    const items = [Buffer.from([0xff, 0x00]), Buffer.from(''), Buffer.from('ok')];
    const transfer: ArrayBuffer[] = [];
    const prepared = prepareData(items, transfer, () => false);
    expect(transfer).toHaveLength(2);
    const back = restoreData(await roundTrip(prepared.data, transfer)) as ByteStrings;
    expect(back.toArray()).toEqual(items);
  });

  it('leaves plain values to structured cloning', () => {
    const transfer: ArrayBuffer[] = [];
    expect(prepareData([1, 2, 3], transfer, () => true)).toEqual({ data: [1, 2, 3], moved: false });
    expect(transfer).toEqual([]);
  });
});
