// Hot-path metric cells: plain numbers per label tuple, handed to prom-client only when Prometheus
// scrapes (counters as deltas through the public inc(); histograms exposed from their own buckets).
import { Counter, Histogram, type Registry } from "prom-client";

function labelsOf(names: readonly string[], values: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < names.length; i++) out[names[i] as string] = values[i] ?? "";
  return out;
}

/** One counter series: recording adds to a number. */
export class CounterCell {
  value = 0;
  /** What prom-client has been given so far. */
  flushed = 0;

  constructor(readonly labels: Record<string, string>) {}

  inc(n = 1): void {
    this.value += n;
  }
}

/** A prom-client counter fed from cells at scrape time; returns the factory of its cells. */
export function cellCounter(
  reg: Registry,
  name: string,
  help: string,
  labelNames: string[],
): (values: readonly string[]) => CounterCell {
  const cells: CounterCell[] = [];
  new Counter({
    name,
    help,
    labelNames,
    registers: [reg],
    collect() {
      for (const c of cells) {
        const delta = c.value - c.flushed;
        if (delta > 0) {
          this.inc(c.labels, delta);
          c.flushed = c.value;
        }
      }
    },
  });
  return (values) => {
    const c = new CounterCell(labelsOf(labelNames, values));
    cells.push(c);
    return c;
  };
}

/** One histogram series: recording is a bucket search and three additions. */
export class HistogramCell {
  /** Per bucket (not cumulative); observations above the last bound count only in `count`. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(
    readonly labels: Record<string, string>,
    private readonly bounds: readonly number[],
  ) {
    this.counts = new Float64Array(bounds.length);
  }

  observe(v: number): void {
    const b = this.bounds;
    let i = 0;
    while (i < b.length && v > (b[i] as number)) i++;
    if (i < b.length) this.counts[i] = (this.counts[i] as number) + 1;
    this.sum += v;
    this.count++;
  }
}

/** One exposition sample in prom-client's own shape (`le` in labels, the series' labels shared). */
interface Sample {
  labels: Record<string, string | number>;
  sharedLabels: Record<string, string>;
  value: number;
  metricName: string;
}

/** A prom-client histogram whose series are HistogramCells: the registry reads them when scraped. */
export class CellHistogram extends Histogram<string> {
  private readonly cells: HistogramCell[] = [];

  constructor(
    reg: Registry,
    private readonly metric: string,
    private readonly about: string,
    private readonly names: string[],
    private readonly bounds: number[],
  ) {
    super({ name: metric, help: about, labelNames: names, buckets: bounds, registers: [reg] });
  }

  /** A new series for these label values (callers cache it per label tuple). */
  cell(values: readonly string[]): HistogramCell {
    const c = new HistogramCell(labelsOf(this.names, values), this.bounds);
    this.cells.push(c);
    return c;
  }

  /** What prom-client's Registry formats (it calls this instead of get() when present). */
  async getForPromString(): Promise<{
    name: string;
    help: string;
    type: string;
    values: Sample[];
    aggregator: string;
  }> {
    const values: Sample[] = [];
    const bucket = `${this.metric}_bucket`;
    for (const c of this.cells) {
      let acc = 0;
      for (let i = 0; i < this.bounds.length; i++) {
        acc += c.counts[i] as number;
        values.push({
          labels: { le: this.bounds[i] as number },
          sharedLabels: c.labels,
          value: acc,
          metricName: bucket,
        });
      }
      values.push(
        { labels: { le: "+Inf" }, sharedLabels: c.labels, value: c.count, metricName: bucket },
        { labels: {}, sharedLabels: c.labels, value: c.sum, metricName: `${this.metric}_sum` },
        { labels: {}, sharedLabels: c.labels, value: c.count, metricName: `${this.metric}_count` },
      );
    }
    return { name: this.metric, help: this.about, type: "histogram", values, aggregator: "sum" };
  }
}
