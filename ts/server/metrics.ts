/**
 * The server's metrics, rendered in the Prometheus text format for
 * GET /metrics: counters, gauges read at scrape time, and histograms.
 * @module
 */

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

class Histogram {
  readonly counts = new Array<number>(LATENCY_BUCKETS.length).fill(0);
  sum = 0;
  count = 0;

  observe(seconds: number): void {
    this.sum += seconds;
    ++this.count;
    for (let i = 0; i < LATENCY_BUCKETS.length; ++i) if (seconds <= LATENCY_BUCKETS[i]!) ++this.counts[i]!;
  }

  render(name: string, help: string): string {
    const lines = [`# HELP ${name} ${help}`, `# TYPE ${name} histogram`];
    LATENCY_BUCKETS.forEach((b, i) => lines.push(`${name}_bucket{le="${b}"} ${this.counts[i]}`));
    lines.push(`${name}_bucket{le="+Inf"} ${this.count}`, `${name}_sum ${this.sum}`, `${name}_count ${this.count}`);
    return lines.join('\n');
  }
}

/** Values read when /metrics is scraped. */
export interface Gauges {
  waiting: number;
  running: number;
  kvBlocksUsed: number;
  kvBlocksFree: number;
  prefixCacheHits: number;
}

export class Metrics {
  readonly #requests = new Map<string, number>();
  promptTokens = 0;
  generatedTokens = 0;
  readonly timeToFirstToken = new Histogram();
  readonly interTokenLatency = new Histogram();

  /** One finished HTTP request. */
  request(endpoint: string, status: number): void {
    const key = `endpoint="${endpoint}",status="${status}"`;
    this.#requests.set(key, (this.#requests.get(key) ?? 0) + 1);
  }

  render(g: Gauges): string {
    const one = (name: string, type: 'counter' | 'gauge', help: string, value: number): string =>
      `# HELP ${name} ${help}\n# TYPE ${name} ${type}\n${name} ${value}`;
    const out: string[] = [
      '# HELP lmrt_requests_total HTTP requests by endpoint and status.',
      '# TYPE lmrt_requests_total counter',
      ...[...this.#requests].map(([labels, n]) => `lmrt_requests_total{${labels}} ${n}`),
      one('lmrt_prompt_tokens_total', 'counter', 'Prompt tokens of finished requests.', this.promptTokens),
      one('lmrt_generated_tokens_total', 'counter', 'Tokens generated.', this.generatedTokens),
      one('lmrt_queue_depth', 'gauge', 'Requests waiting for a sequence.', g.waiting),
      one('lmrt_running_sequences', 'gauge', 'Requests generating.', g.running),
      one('lmrt_kv_blocks_used', 'gauge', 'KV cache blocks in use.', g.kvBlocksUsed),
      one('lmrt_kv_blocks_free', 'gauge', 'KV cache blocks free.', g.kvBlocksFree),
      one('lmrt_prefix_cache_hits_total', 'counter', 'Prompt tokens served from the prefix cache.', g.prefixCacheHits),
      this.timeToFirstToken.render('lmrt_time_to_first_token_seconds', 'From a request arriving to its first generated token.'),
      this.interTokenLatency.render('lmrt_inter_token_latency_seconds', 'Between consecutive generated tokens of a request.'),
    ];
    return `${out.join('\n')}\n`;
  }
}
