// Collecting what a model saw, for its drift checks: each replica's monitoring window is read from
// where this collector last stopped (its sequence number; a new epoch means the server restarted and
// its sequence with it), so no prediction is counted twice. Samples accumulate across replicas until
// a check takes them. Memory is bounded: past `capacity` the oldest samples go first, and at most
// 1,000 cursors are kept.
import type { WindowSample } from '../../contract/monitoring.js';
import { jsonWithin } from '../util/json-within.js';

/** What both monitoring endpoints answer: /v1/monitoring/window and /v1/monitoring/feedback. */
interface SequencedResponse<T> {
  epoch: string;
  seq: number;
  samples: T[];
  dropped: boolean;
}

export interface CollectResult {
  added: number;
  /** Some replica evicted samples before they were read (the check interval is too long for its ring). */
  dropped: boolean;
  /** Endpoints that could not be read, with why. */
  errors: string[];
}

/** Samples asked for per request, and requests per endpoint per read (a ring holds at most PAGE × MAX_PAGES). */
const PAGE = 2000;
const MAX_PAGES = 500;
/** A page of PAGE samples is tens of kilobytes; a pod answering more is cut off (its image is the spec editor's). */
const MAX_PAGE_BYTES = 8 * 1024 ** 2;

export class WindowCollector<T extends { seq: number; time: string } = WindowSample> {
  private readonly cursors = new Map<string, { epoch: string; seq: number }>();
  private buffer: T[] = [];

  constructor(
    private readonly capacity = 100_000,
    private readonly fetchFn: typeof fetch = fetch,
    private readonly timeoutMs = 5000,
    private readonly path = '/v1/monitoring/window',
  ) {}

  get size(): number {
    return this.buffer.length;
  }

  /**
   * Read every endpoint (base URLs such as http://10.0.0.7:8080) from its cursor. An endpoint read
   * for the first time (a new replica, or a restarted operator) yields only the predictions made
   * after `notBefore` (ms), when given: older ones belong to windows already judged.
   */
  async collect(endpoints: readonly string[], notBefore?: number): Promise<CollectResult> {
    // Cursors of endpoints missing from this read are kept (a replica not ready for one check must not
    // be re-read from its start later); only the oldest go, past a bound.
    while (this.cursors.size > 1000) this.cursors.delete(this.cursors.keys().next().value as string);
    const result: CollectResult = { added: 0, dropped: false, errors: [] };
    await Promise.all(endpoints.map(async (base) => {
      const cursor = this.cursors.get(base);
      let after = cursor?.seq ?? 0;
      let epoch = cursor?.epoch;
      try {
        // Page by page, each within the timeout: a long backlog is read in parts, and what was read is kept.
        for (let page = 0; page < MAX_PAGES; page++) {
          let w = await this.read(base, after);
          if (epoch !== undefined && w.epoch !== epoch) {
            // The server restarted: its sequence began again; read it from the start.
            after = 0;
            w = await this.read(base, 0);
          }
          const sameEpoch = epoch === w.epoch;
          epoch = w.epoch;
          const fresh = !cursor && notBefore !== undefined ? w.samples.filter((x) => Date.parse(x.time) > notBefore) : w.samples;
          this.buffer.push(...fresh);
          result.added += fresh.length;
          result.dropped ||= w.dropped;
          after = w.samples.length > 0 ? w.samples[w.samples.length - 1]!.seq : (sameEpoch ? after : w.seq);
          this.cursors.set(base, { epoch: w.epoch, seq: after });
          if (w.samples.length < PAGE || after >= w.seq) break;
        }
      } catch (err) {
        result.errors.push(`${base}: ${(err as Error).message}`);
      }
    }));
    if (this.buffer.length > this.capacity) this.buffer = this.buffer.slice(-this.capacity);
    return result;
  }

  private async read(base: string, after: number): Promise<SequencedResponse<T>> {
    const res = await this.fetchFn(`${base}${this.path}?after=${after}&limit=${PAGE}`, { signal: AbortSignal.timeout(this.timeoutMs) });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    return jsonWithin<SequencedResponse<T>>(res, MAX_PAGE_BYTES);
  }

  /** The samples collected so far, oldest first, without removing them. */
  peek(): readonly T[] {
    return this.buffer;
  }

  /** Remove the oldest n samples (those a check has judged). */
  drop(n: number): void {
    this.buffer = this.buffer.slice(n);
  }

  /** Forget every sample collected so far (cursors stay: nothing is read twice). */
  clear(): void {
    this.buffer = [];
  }
}
