import type { InferenceEvent } from '../inference/inference-event.interface';
import type { SamplingInfo } from './monitoring-record.interface';

/**
 * Chooses which requests get a record. Failures always do. Successes: every Nth of each model (MLRun's
 * `log_stream_sample`, a counter, the first one kept), or each with probability p (ClearML's way; each kept
 * record then stands for 1/p requests).
 *
 * @publicApi
 */
export class EventSampler {
  /** The share kept and each record's weight, or undefined when every request is kept. */
  readonly info: SamplingInfo | undefined;
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly every: number = 1,
    private readonly probability: number = 1,
    private readonly random: () => number = Math.random,
  ) {
    if (every > 1) this.info = { percentage: 100 / every, weight: every };
    else if (probability < 1) this.info = { percentage: probability * 100, weight: 1 / probability };
  }

  /** Whether `event` gets a record (bound: usable as an rxjs `filter`). */
  readonly accept = (event: InferenceEvent): boolean => {
    if (event.status !== 'ok') return true;
    if (this.every > 1) {
      const n = this.seen.get(event.model) ?? 0;
      this.seen.set(event.model, n + 1 === this.every ? 0 : n + 1);
      return n === 0;
    }
    return this.probability >= 1 || this.random() < this.probability;
  };
}
