/**
 * The scheduler: one loop per model that runs every request in shared
 * forward steps (continuous batching). Each step packs one decode row per
 * running request plus prompt chunks of requests still prefilling, first
 * come first served, under a budget of `chunk` prompt rows, and calls the
 * native step once. New requests join at the next step; finished ones leave
 * at once.
 *
 * A request starts from the cached KV blocks of the longest matching prefix
 * (see kv/prefix_index.h) and computes only the rest.
 *
 * When the KV pool cannot hold a step, the most recently started request is
 * preempted: its blocks are released and it waits to be fed again (its own
 * blocks usually still cached); a row's arithmetic depends only on its token
 * and kind, so it continues exactly as it would have.
 * @module
 */
import { fromNativeError, LmrtError } from '../errors.js';
import type { GenerationRequest, Feed } from '../generation/request.js';
import { RowFlag, type RawContext, type StepOutput } from '../native/types.js';

export interface SchedulerOptions {
  vocabSize: number;
  /** Prompt rows per step (the most one prompt chunk holds). */
  chunk: number;
  /** Requests running at once; the rest wait. */
  maxSequences: number;
  /** The model's sliding window (0: none): a sequence then holds only the window's blocks. */
  slidingWindow?: number;
}

/**
 * The most KV blocks a sequence of `positions` holds at once: all of them,
 * or with a sliding window, the window's (less the row being computed) plus
 * a prompt chunk, straddling one more block than they fill.
 */
export function blocksHeld(positions: number, window: number, chunk: number, blockSize: number): number {
  const live = window > 0 ? Math.min(positions, window - 1 + chunk) : positions;
  return Math.ceil(live / blockSize) + (window > 0 ? 1 : 0);
}

// The most entries a step's top-k rows can ask for (lmrt.h's LMRT_MAX_TOP_K);
// a request sampling from more takes its whole row.
const MAX_TOP_K = 256;

interface Planned {
  request: GenerationRequest;
  feed: Feed;
  /**
   * What the step hands over after the feed instead of its logits row (set
   * by #rows): its greedy token, or its largest logits (the step's top-k).
   */
  instead?: 'greedy' | 'top';
}

export class Scheduler {
  readonly #ctx: RawContext;
  readonly #options: SchedulerOptions;
  readonly #waiting: GenerationRequest[] = [];
  readonly #running: GenerationRequest[] = [];
  #loop: Promise<void> | undefined;
  #closed: LmrtError | undefined;
  #skipDrafts = false;

  constructor(ctx: RawContext, options: SchedulerOptions) {
    this.#ctx = ctx;
    this.#options = options;
  }

  /** Requests waiting for a sequence. */
  get waiting(): number {
    return this.#waiting.length;
  }

  /** Requests holding a sequence. */
  get running(): number {
    return this.#running.length;
  }

  /** Forward steps run, and requests preempted for lack of KV space, since the start. */
  readonly counters = { steps: 0, preemptions: 0, rows: 0 };

  /**
   * Queues a request; it settles through its hooks. With a `leader` (another
   * completion of the same prompt, submitted before), it waits for the
   * leader's prompt and forks it instead of computing the prompt again. A
   * request aborted before it runs settles at once.
   */
  submit(request: GenerationRequest, leader?: GenerationRequest): void {
    if (this.#closed) {
      request.hooks.reject(this.#closed);
      return;
    }
    const signal = request.limits.signal;
    if (signal?.aborted) {
      request.abort();
      return;
    }
    if (leader !== undefined && !leader.done) leader.followers.push(request);
    else this.#waiting.push(request);
    signal?.addEventListener('abort', () => {
      if (request.seq >= 0) return; // running: the loop ends it after the step in flight
      const waiting = this.#waiting.indexOf(request);
      if (waiting >= 0) this.#waiting.splice(waiting, 1);
      const following = leader?.followers.indexOf(request) ?? -1;
      if (following >= 0) leader!.followers.splice(following, 1);
      request.abort();
    }, { once: true });
    this.#kick();
  }

  /** Fails every request with `err` and takes no more (the model is going away). */
  close(err: LmrtError): void {
    this.#closed = err;
    const all = [...this.#waiting, ...this.#running];
    for (const r of [...all]) all.push(...r.followers);
    for (const r of all) this.#fail(r, err, false);
    this.#waiting.length = 0;
    this.#running.length = 0;
  }

  #kick(): void {
    if (this.#loop !== undefined || this.#closed) return;
    this.#loop = this.#run().finally(() => {
      this.#loop = undefined;
      if (this.#waiting.length + this.#running.length > 0) this.#kick();
    });
  }

  async #run(): Promise<void> {
    for (;;) {
      if (this.#closed) return;
      this.#dropAborted();
      this.#admit();
      const drafted = this.#skipDrafts ? 0 : await this.#draft();
      this.#skipDrafts = false;
      if (this.#closed) return;
      const plan = this.#plan(this.#options.chunk - drafted);
      if (plan.length === 0) return;
      let logits: Float32Array;
      let out: Required<StepOutput>;
      try {
        const rows = this.#rows(plan);
        out = this.#stepOutput(plan);
        logits = await this.#ctx.step(rows, out);
        ++this.counters.steps;
        this.counters.rows += rows.length / 4;
      } catch (raw) {
        if (this.#closed) return;
        const err = fromNativeError(raw);
        if (err.code === 'E_KV_FULL' && drafted > 0) {
          // without the guesses first
          for (const r of this.#running) r.dropDraft();
          this.#skipDrafts = true;
          continue;
        }
        if (err.code === 'E_KV_FULL' && this.#preempt()) continue;
        // nothing was committed: the requests of this step fail, the others go on
        for (const { request } of plan) this.#fail(request, err, true);
        continue;
      }
      if (this.#closed) return;
      const V = this.#options.vocabSize;
      let row = 0;
      let greedyRow = 0;
      let topRow = 0;
      for (const { request, feed, instead } of plan) {
        request.fedRows(feed.tokens.length);
        if (feed.logitsFrom !== undefined) {
          // a scoring request's rows, the last of them also its last logits when the prompt is done
          const count = feed.tokens.length - feed.logitsFrom;
          const rows = Array.from({ length: count }, (_, k) => logits.subarray((row + k) * V, (row + k + 1) * V));
          row += count;
          if (request.done) continue;
          if (request.limits.signal?.aborted) {
            request.abort();
            this.#release(request);
            continue;
          }
          this.#deliverInstead(request, () => {
            request.onScoreRows!(feed.position + feed.logitsFrom!, rows);
            return feed.logits ? request.onLogits(rows.at(-1)!) : false;
          });
          continue;
        }
        if (!feed.logits) continue;
        if (instead !== undefined) {
          const at = instead === 'greedy' ? greedyRow++ : topRow++;
          if (request.done) continue;
          if (request.limits.signal?.aborted) {
            request.abort();
            this.#release(request);
            continue;
          }
          this.#deliverInstead(request, () =>
            instead === 'greedy' ? request.onGreedyToken(out.tokens[at]!) : request.onTopLogits(out.topIds, out.topLogits, at * out.topK, out.topK));
          continue;
        }
        if (feed.allLogits) {
          const rows = feed.tokens.map((_, k) => logits.subarray((row + k) * V, (row + k + 1) * V));
          row += feed.tokens.length;
          if (!request.done && !request.limits.signal?.aborted) this.#deliverDraft(request, rows);
          else if (!request.done) {
            request.abort();
            this.#release(request);
          }
          continue;
        }
        const logitsRow = logits.subarray(row * V, (row + 1) * V);
        ++row;
        if (request.done) continue;
        if (request.limits.signal?.aborted) {
          // aborted while the step ran: nothing sampled after the abort
          request.abort();
          this.#release(request);
          continue;
        }
        if (request.followers.length > 0) this.#forkFollowers(request, logitsRow);
        this.#deliver(request, logitsRow);
      }
    }
  }

  // The leader's prompt is in its sequence and these are the logits after
  // it: each follower takes a fork of the sequence and samples from them.
  #forkFollowers(leader: GenerationRequest, logits: Float32Array): void {
    const followers = leader.followers.splice(0);
    for (const f of followers) {
      if (f.done) continue;
      if (f.limits.signal?.aborted) {
        f.abort();
        continue;
      }
      f.seq = this.#ctx.seqFork(leader.seq);
      f.fedRows(leader.fed);
      f.startedAt = performance.now();
      f.cachedTokens = leader.cachedTokens;
      this.#running.push(f);
      this.#deliver(f, logits);
    }
  }

  // Hands a request the logits of its verified guesses; the cache keeps
  // the rows it accepted.
  #deliverDraft(request: GenerationRequest, rows: Float32Array[]): void {
    let finished: boolean;
    try {
      finished = request.onDraftLogits(rows);
      if (!finished && this.#ctx.seqLength(request.seq) > request.fed) this.#ctx.seqTruncate(request.seq, request.fed);
    } catch (err) {
      this.#fail(request, err, true);
      return;
    }
    if (finished) this.#release(request);
  }

  // Guesses for the decoding requests that speculate, within one prompt
  // chunk's worth of rows in all (asked for together, so that a draft
  // model makes them in shared steps); returns the rows they take.
  async #draft(): Promise<number> {
    let budget = this.#options.chunk;
    const asked: Promise<number>[] = [];
    for (const r of this.#running) {
      if (r.speculation === undefined) continue;
      const want = r.draftWant(budget);
      budget -= want;
      asked.push(r.draft(want));
    }
    return (await Promise.all(asked)).reduce((a, b) => a + b, 0);
  }

  // Hands a request the logits after its last token; it leaves when done.
  #deliver(request: GenerationRequest, logits: Float32Array): void {
    let finished: boolean;
    try {
      finished = request.onLogits(logits);
    } catch (err) {
      this.#fail(request, err, true);
      return;
    }
    if (finished) this.#release(request);
  }

  // Hands a request what the step chose or narrowed for it instead of its logits row.
  #deliverInstead(request: GenerationRequest, deliver: () => boolean): void {
    let finished: boolean;
    try {
      finished = deliver();
    } catch (err) {
      this.#fail(request, err, true);
      return;
    }
    if (finished) this.#release(request);
  }

  #dropAborted(): void {
    for (const r of [...this.#running]) {
      if (r.limits.signal?.aborted) {
        r.abort();
        this.#release(r);
      }
    }
  }

  // Gives waiting requests a sequence, in order, while there is room: a
  // slot, and free KV blocks for what it feeds next plus a block of growth
  // for each running request.
  #admit(): void {
    const stats = this.#ctx.kvStats();
    let free = stats.blocksFree - this.#running.length;
    while (this.#waiting.length > 0 && this.#running.length < this.#options.maxSequences) {
      const next = this.#waiting[0]!;
      const need = blocksHeld(next.prompt.length + next.tokens.length, this.#options.slidingWindow ?? 0, this.#options.chunk, stats.blockSize) + 1;
      if (this.#running.length > 0 && need > free) break;
      this.#waiting.shift();
      next.seq = this.#ctx.seqCreate();
      next.startedAt ??= performance.now();
      // start from cached blocks of a matching prefix (leaving the last token, whose logits are needed,
      // and for a request that scores prompt positions, those)
      const known = [...next.prompt, ...next.tokens];
      const reusable = Math.min(known.length - 1, next.scoreFrom ?? Infinity);
      const reused = this.#ctx.seqReusePrefix(next.seq, Int32Array.from(known.slice(0, reusable)), next.prompt.length);
      next.fedRows(reused);
      next.cachedTokens ??= Math.min(reused, next.prompt.length);
      this.#running.push(next);
      free -= need;
    }
  }

  // One decode row (and its guesses) per request past its prompt; prompt
  // chunks in order of arrival while the budget lasts, the last one cut to
  // what is left of it.
  #plan(promptBudget: number): Planned[] {
    const plan: Planned[] = [];
    let budget = promptBudget;
    let prefillOpen = true;
    for (const request of this.#running) {
      const prefill = request.fed < request.prompt.length;
      if (!prefill) {
        plan.push({ request, feed: request.nextFeed(this.#options.chunk) });
        continue;
      }
      // first come, first served: no later prompt jumps ahead of one that waits
      if (!prefillOpen || budget <= 0) {
        prefillOpen = false;
        continue;
      }
      const feed = request.nextFeed(budget);
      budget -= feed.tokens.length;
      plan.push({ request, feed });
    }
    return plan;
  }

  // The step's rows. A request that takes the most likely token and nothing
  // else of its row (GenerationRequest.wantsGreedyToken) asks for that token
  // only, one that samples from its top-k (wantsTopK) for the row's largest
  // logits: the whole row then never leaves the native side (on a GPU, the
  // device).
  #rows(plan: Planned[]): Int32Array {
    const n = plan.reduce((s, p) => s + p.feed.tokens.length, 0);
    const rows = new Int32Array(4 * n);
    let i = 0;
    for (const p of plan) {
      const { request, feed } = p;
      const single = feed.logits && !feed.allLogits;
      const topK = single ? request.wantsTopK : 0;
      const narrow = topK > 0 && topK <= MAX_TOP_K && topK < this.#options.vocabSize;
      p.instead = single && request.wantsGreedyToken ? 'greedy' : narrow ? 'top' : undefined;
      const last = RowFlag.logits | (p.instead === 'greedy' ? RowFlag.argmax : p.instead === 'top' ? RowFlag.topK : 0);
      const from = feed.logitsFrom ?? Infinity;
      feed.tokens.forEach((token, k) => {
        const logits = feed.allLogits || k >= from ? RowFlag.logits : k === feed.tokens.length - 1 && feed.logits ? last : 0;
        rows.set([request.seq, token, feed.position + k, logits | (feed.decode ? RowFlag.decode : 0)], 4 * i++);
      });
    }
    return rows;
  }

  // Room for what the step's greedy and top-k rows hand over: one top-k
  // size for the step, the largest its requests ask for (each narrows to
  // its own).
  #stepOutput(plan: Planned[]): Required<StepOutput> {
    let greedy = 0, top = 0, topK = 1;
    for (const p of plan) {
      if (p.instead === 'greedy') ++greedy;
      if (p.instead === 'top') {
        ++top;
        topK = Math.max(topK, p.request.wantsTopK);
      }
    }
    return { tokens: new Int32Array(greedy), topK, topIds: new Int32Array(top * topK), topLogits: new Float32Array(top * topK) };
  }

  // Frees room by sending the most recently started request back to wait.
  // False when only one request runs: nothing else can make room for it.
  #preempt(): boolean {
    if (this.#running.length <= 1) return false;
    const victim = this.#running.pop()!;
    ++this.counters.preemptions;
    this.#ctx.seqRelease(victim.seq);
    victim.preempted();
    this.#waiting.unshift(victim);
    return true;
  }

  #release(request: GenerationRequest): void {
    // followers still waiting for this prompt: the first of them computes it instead
    const followers = request.followers.splice(0).filter((f) => !f.done);
    if (followers.length > 0) {
      followers[0]!.followers.push(...followers.slice(1));
      this.#waiting.unshift(followers[0]!);
    }
    const at = this.#running.indexOf(request);
    if (at >= 0) this.#running.splice(at, 1);
    request.speculation?.drafter.dispose?.();
    if (request.seq >= 0 && !this.#closed) this.#ctx.seqRelease(request.seq);
    request.seq = -1;
  }

  #fail(request: GenerationRequest, err: unknown, release: boolean): void {
    if (release) this.#release(request);
    else request.speculation?.drafter.dispose?.();
    if (!request.done) {
      request.done = true;
      request.hooks.reject(err);
    }
  }
}
