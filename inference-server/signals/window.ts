// A bounded ring of the most recent predictions' signals, numbered by a sequence that only grows, so
// a reader that remembers the last seq it saw never counts a sample twice and knows when it missed some.
import type { WindowSample } from '../../contract/monitoring.js';

export class PredictionWindow<T extends { seq: number } = WindowSample> {
  private readonly ring: Array<T | undefined>;
  private seq = 0;

  constructor(readonly capacity: number) {
    this.ring = new Array<T | undefined>(capacity);
  }

  get lastSeq(): number {
    return this.seq;
  }

  add(sample: Omit<T, 'seq'>): number {
    this.seq += 1;
    this.ring[this.seq % this.capacity] = { seq: this.seq, ...sample } as T;
    return this.seq;
  }

  /** Samples with seq > after (at most `limit`, oldest first), and whether some were already evicted. */
  after(after: number, limit = this.capacity): { samples: T[]; dropped: boolean } {
    const oldest = Math.max(1, this.seq - this.capacity + 1);
    const from = Math.max(after + 1, oldest);
    const to = Math.min(this.seq, from + limit - 1);
    const samples: T[] = [];
    for (let s = from; s <= to; s++) samples.push(this.ring[s % this.capacity]!);
    return { samples, dropped: after + 1 < oldest && this.seq > 0 };
  }
}
