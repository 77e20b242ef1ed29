/**
 * Metric families whose per-request update is a few arithmetic operations on a child the caller keeps:
 * prom-client's own `labels(...).observe()` rebuilds and hashes the label set on every call (microseconds per
 * request). The families plug into a prom-client `Registry` (`registry.registerMetric(family as never)`), which
 * reads them through `get()` when `/metrics` is scraped.
 */

interface SeriesValue {
  metricName?: string;
  labels: Record<string, string | number>;
  value: number;
}

interface Exposition {
  name: string;
  help: string;
  type: string;
  aggregator: string;
  values: SeriesValue[];
}

abstract class Family<C extends { labels: Record<string, string> }> {
  readonly aggregator = 'sum';
  protected readonly children = new Map<string, C>();
  abstract readonly type: string;

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly labelNames: readonly string[],
  ) {}

  /** The series of these label values (in label-name order), created on first use. Keep it: lookups cost. */
  child(labelValues: readonly string[]): C {
    const key = labelValues.join('\u0000');
    let child = this.children.get(key);
    if (child === undefined) {
      const labels: Record<string, string> = {};
      for (let i = 0; i < this.labelNames.length; i++) labels[this.labelNames[i]] = labelValues[i] ?? '';
      child = this.create(labels);
      this.children.set(key, child);
    }
    return child;
  }

  protected abstract create(labels: Record<string, string>): C;
  protected abstract values(child: C, out: SeriesValue[]): void;

  /** Forgets every series (children handed out keep counting, unseen). */
  reset(): void {
    this.children.clear();
  }

  /** What prom-client's registry writes. */
  async get(): Promise<Exposition> {
    const values: SeriesValue[] = [];
    for (const child of this.children.values()) this.values(child, values);
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }
}

/** One counter series. @internal */
export class CounterSeries {
  value = 0;
  constructor(readonly labels: Record<string, string>) {}
  inc(n = 1): void {
    this.value += n;
  }
}

/** A counter family. @internal */
export class CounterFamily extends Family<CounterSeries> {
  readonly type = 'counter';
  protected create(labels: Record<string, string>): CounterSeries {
    return new CounterSeries(labels);
  }
  protected values(c: CounterSeries, out: SeriesValue[]): void {
    out.push({ labels: c.labels, value: c.value });
  }
}

/** One gauge series. @internal */
export class GaugeSeries {
  value = 0;
  constructor(readonly labels: Record<string, string>) {}
  set(v: number): void {
    this.value = v;
  }
}

/** A gauge family. @internal */
export class GaugeFamily extends Family<GaugeSeries> {
  readonly type = 'gauge';
  protected create(labels: Record<string, string>): GaugeSeries {
    return new GaugeSeries(labels);
  }
  protected values(g: GaugeSeries, out: SeriesValue[]): void {
    out.push({ labels: g.labels, value: g.value });
  }
}

/** One histogram series: a count per bucket (not cumulative until written), a sum and a count. @internal */
export class HistogramSeries {
  readonly counts: Float64Array;
  sum = 0;
  count = 0;
  constructor(
    readonly labels: Record<string, string>,
    private readonly bounds: readonly number[],
  ) {
    this.counts = new Float64Array(bounds.length + 1);
  }
  observe(v: number): void {
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && v > bounds[i]) i++;
    this.counts[i]++;
    this.sum += v;
    this.count++;
  }
}

/** A histogram family with fixed upper bounds (`le`). @internal */
export class HistogramFamily extends Family<HistogramSeries> {
  readonly type = 'histogram';
  constructor(name: string, help: string, labelNames: readonly string[], private readonly bounds: readonly number[]) {
    super(name, help, labelNames);
  }
  protected create(labels: Record<string, string>): HistogramSeries {
    return new HistogramSeries(labels, this.bounds);
  }
  protected values(h: HistogramSeries, out: SeriesValue[]): void {
    let cumulative = 0;
    for (let i = 0; i < this.bounds.length; i++) {
      cumulative += h.counts[i];
      out.push({ metricName: `${this.name}_bucket`, labels: { ...h.labels, le: this.bounds[i] }, value: cumulative });
    }
    out.push({ metricName: `${this.name}_bucket`, labels: { ...h.labels, le: '+Inf' }, value: h.count });
    out.push({ metricName: `${this.name}_sum`, labels: h.labels, value: h.sum });
    out.push({ metricName: `${this.name}_count`, labels: h.labels, value: h.count });
  }
}

/** One sum/count series: values of any sign. @internal */
export class SumCountSeries {
  sum = 0;
  count = 0;
  constructor(readonly labels: Record<string, string>) {}
  observe(v: number): void {
    if (v - v !== 0) return; // NaN and ±Infinity would poison the sum
    this.sum += v;
    this.count++;
  }
}

/**
 * A summary without quantiles, `<name>_sum` and `<name>_count` per series (prom-client's Summary always keeps
 * quantile sketches). @internal
 */
export class SumCountFamily extends Family<SumCountSeries> {
  readonly type = 'summary';
  protected create(labels: Record<string, string>): SumCountSeries {
    return new SumCountSeries(labels);
  }
  protected values(s: SumCountSeries, out: SeriesValue[]): void {
    out.push({ metricName: `${this.name}_sum`, labels: s.labels, value: s.sum });
    out.push({ metricName: `${this.name}_count`, labels: s.labels, value: s.count });
  }
}
