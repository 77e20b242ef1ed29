/**
 * A bounded first-in first-out queue on a ring buffer: O(1) push and shift, no allocation once full size
 * was reached. Every executor queue is one of these, so every queue says what it does when full.
 *
 * @internal
 */
export class RingQueue<T> {
  private items: (T | undefined)[];
  private head = 0;
  private count = 0;

  constructor(readonly capacity: number) {
    this.items = new Array<T | undefined>(Math.min(capacity, 64));
  }

  get size(): number {
    return this.count;
  }

  get full(): boolean {
    return this.count >= this.capacity;
  }

  /** Adds `item` at the tail; false (and nothing added) when the queue is full. */
  push(item: T): boolean {
    if (this.count >= this.capacity) return false;
    if (this.count === this.items.length) this.grow();
    this.items[(this.head + this.count) % this.items.length] = item;
    this.count++;
    return true;
  }

  /** Removes and returns the head, or undefined when empty. */
  shift(): T | undefined {
    if (this.count === 0) return undefined;
    const item = this.items[this.head];
    this.items[this.head] = undefined;
    this.head = (this.head + 1) % this.items.length;
    this.count--;
    return item;
  }

  /** Removes every item and returns them in order. */
  drain(): T[] {
    const out: T[] = [];
    for (let item = this.shift(); item !== undefined; item = this.shift()) out.push(item);
    return out;
  }

  private grow(): void {
    const next = new Array<T | undefined>(Math.min(this.capacity, this.items.length * 2));
    for (let i = 0; i < this.count; i++) next[i] = this.items[(this.head + i) % this.items.length];
    this.items = next;
    this.head = 0;
  }
}
