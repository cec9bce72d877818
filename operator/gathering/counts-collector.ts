// Collecting per-feature bin counts for input drift checks: each replica's GET /v1/monitoring/features
// from where this collector last stopped (its sequence number; a new epoch means the server restarted
// and is read from its start), summed over replicas and reads until a judgement commits them. The
// server sends counts only, so nothing here ever holds an input value. A replica read for the first
// time by a process that knows earlier checks ran (`skipHistory`) only sets its cursor: counts cannot be
// split by time, and what it holds was judged before.
import type { FeatureCountsResponse } from '../../contract/monitoring.js';
import { jsonWithin } from '../util/json-within.js';

export interface CountsRead {
  /** Predictions added to the totals by this read. */
  added: number;
  dropped: boolean;
  errors: string[];
}

/** Bin counts of a few hundred features are kilobytes; more is cut off. */
const MAX_COUNTS_BYTES = 4 * 1024 ** 2;

export class FeatureCountsCollector {
  private readonly cursors = new Map<string, { epoch: string; seq: number }>();
  private totals: { names: string[]; counts: number[][] } | undefined;
  /** The bins the totals are over (the `bins` of the last collect). */
  private bins: string | undefined;

  constructor(
    private readonly fetchFn: typeof fetch = fetch,
    private readonly timeoutMs = 5000,
  ) {}

  /**
   * Read every endpoint from its cursor. `bins`: the reference's binsDigest; a replica counting over
   * other bins (started before the reference changed) is reported, not summed.
   */
  async collect(endpoints: readonly string[], skipHistory = false, bins?: string): Promise<CountsRead> {
    while (this.cursors.size > 1000) this.cursors.delete(this.cursors.keys().next().value as string);
    // Counts over another reference's bins are not added to these: a changed reference starts over.
    if (bins !== this.bins) {
      this.totals = undefined;
      this.bins = bins;
    }
    const result: CountsRead = { added: 0, dropped: false, errors: [] };
    await Promise.all(endpoints.map(async (base) => {
      const cursor = this.cursors.get(base);
      try {
        const read = async (after: number) => {
          const res = await this.fetchFn(`${base}/v1/monitoring/features?after=${after}`, { signal: AbortSignal.timeout(this.timeoutMs) });
          if (!res.ok) throw new Error(`HTTP ${res.status}`);
          return jsonWithin<FeatureCountsResponse>(res, MAX_COUNTS_BYTES);
        };
        let r = await read(cursor?.seq ?? 0);
        if (cursor && r.epoch !== cursor.epoch) r = await read(0); // restarted: its numbering began again
        if (!Array.isArray(r.features) || !r.features.every((f) => Array.isArray(f.counts) && f.counts.every((n) => Number.isInteger(n) && n >= 0))) {
          throw new Error('the counts are not whole numbers per feature and bin');
        }
        if (bins !== undefined && r.bins !== bins) {
          throw new Error(`counts over other bins (${r.bins}) than the reference's (${bins}): the pod started with an older feature reference; restart the model's pods`);
        }
        this.cursors.set(base, { epoch: r.epoch, seq: r.seq });
        if (!cursor && skipHistory) return;
        result.added += this.add(r);
        result.dropped ||= r.dropped;
      } catch (err) {
        result.errors.push(`${base}: ${(err as Error).message}`);
      }
    }));
    return result;
  }

  /** The counts gathered so far per feature and bin (undefined before any), without removing them. */
  peek(): { names: readonly string[]; counts: readonly (readonly number[])[] } | undefined {
    return this.totals;
  }

  /** Whether any replica was read yet (a new collector knows nothing of what earlier checks judged). */
  get started(): boolean {
    return this.cursors.size > 0;
  }

  /** Forget the counts gathered so far (a judgement used them, or a new regime starts); cursors stay. */
  clear(): void {
    this.totals = undefined;
  }

  private add(r: FeatureCountsResponse): number {
    const names = r.features.map((f) => f.name);
    if (!this.totals || this.totals.names.join('\n') !== names.join('\n') ||
        this.totals.counts.some((c, i) => c.length !== r.features[i]!.counts.length)) {
      // The first read, or a reference that changed shape: start over on the new bins.
      this.totals = { names, counts: r.features.map((f) => f.counts.map(() => 0)) };
    }
    r.features.forEach((f, i) => f.counts.forEach((n, b) => (this.totals!.counts[i]![b]! += n)));
    return r.features[0]?.counts.reduce((a, b) => a + b, 0) ?? 0;
  }
}
