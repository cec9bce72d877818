// A model's predictions and the ground truth that reaches them, for its performance checks (pure; the
// gatherer keeps it in a Secret, so it outlives checks and operator restarts). Predictions come from
// every replica's monitoring window, ground truth from every replica's reports: a label may reach a
// replica other than the one that predicted, and days later. Each is joined by prediction id; a label
// that comes before its prediction is collected waits for it. PHI-free: ids, times, the predicted label
// and its confidence, the positive label's probability, the true label — never an input.
//
// Bounded: predictions wait for ground truth at most `maxAgeMs` and the store holds at most `capacity`
// (the oldest unlabelled go first); the labelled keep only the last `window` (the performance check's
// sliding window); labels still unmatched after `maxAgeMs` are counted and dropped.
import { gunzipSync, gzipSync } from 'node:zlib';
import type { StoredPrediction } from '../drift/input.js';

export interface LabelStoreLimits {
  capacity: number;
  window: number;
  maxAgeMs: number;
  /** Labels kept waiting for their prediction. */
  orphans: number;
}

/** The most a stored label store may inflate to (a gzip bomb is refused, not inflated). */
export const MAX_DECODED_BYTES = 16 * 1024 * 1024;

export const DEFAULT_LIMITS: LabelStoreLimits = { capacity: 5000, window: 500, maxAgeMs: 30 * 86_400_000, orphans: 1000 };

interface Encoded {
  v: 1;
  positive: string;
  labels: string[];
  judgedThrough: number;
  since: number;
  unmatched: number;
  expired: number;
  /** [id, time, confidence, predicted (label index), score, truth (index, or -1), labelledAt (or 0), subgroup (optional)] */
  predictions: Array<[string, number, number, number, number, number, number, string?]>;
  /** [id, truth (index), labelledAt] */
  orphans: Array<[string, number, number]>;
}

export class LabelStore {
  private readonly predictions = new Map<string, StoredPrediction>();
  private readonly orphans = new Map<string, { truth: string; at: number }>();
  /** When the newest label a performance judgement used arrived (ms): later ones are new. */
  judgedThrough = 0;
  /** Labels that arrived at or before this (ms) belong to an earlier regime (the level changed). */
  since = 0;
  /** Labels whose prediction was never collected (gone before it was read, or older than the store). */
  unmatched = 0;
  /** Predictions that went without ground truth past the age limit or the capacity. */
  expired = 0;
  /** Changed since it was last saved. */
  dirty = false;

  constructor(readonly positive: string, readonly limits: LabelStoreLimits = DEFAULT_LIMITS) {}

  get size(): number {
    return this.predictions.size;
  }

  /** A prediction read from a replica's window (again, harmlessly: by id). */
  addPrediction(p: Omit<StoredPrediction, 'truth' | 'labelledAt'>): void {
    if (this.predictions.has(p.id)) return;
    const waiting = this.orphans.get(p.id);
    this.predictions.set(p.id, waiting ? { ...p, truth: waiting.truth, labelledAt: waiting.at } : { ...p });
    this.orphans.delete(p.id);
    this.dirty = true;
  }

  /** Ground truth for a prediction; the latest report wins (a correction). */
  addLabel(id: string, truth: string, at: number): void {
    const p = this.predictions.get(id);
    if (p) {
      if (p.labelledAt !== undefined && p.labelledAt > at) return;
      if (p.truth === truth && p.labelledAt === at) return;
      p.truth = truth;
      p.labelledAt = at;
    } else {
      const o = this.orphans.get(id);
      if (o && o.at >= at) return;
      this.orphans.delete(id);
      this.orphans.set(id, { truth, at });
    }
    this.dirty = true;
  }

  /** Apply the bounds at `now`. */
  prune(now: number): void {
    const { capacity, window, maxAgeMs, orphans } = this.limits;
    const before = { p: this.predictions.size, o: this.orphans.size };
    for (const [id, p] of this.predictions) {
      if (p.truth === undefined && p.time < now - maxAgeMs) {
        this.predictions.delete(id);
        this.expired += 1;
      }
    }
    // The labelled: only the sliding window of the current regime is kept.
    const labelled = this.labelled(Infinity);
    const keep = new Set(labelled.slice(-window).map((p) => p.id));
    for (const [id, p] of this.predictions) if (p.truth !== undefined && !keep.has(id)) this.predictions.delete(id);
    for (const [id, p] of this.predictions) {
      if (this.predictions.size <= capacity) break;
      if (p.truth === undefined) {
        this.predictions.delete(id);
        this.expired += 1;
      }
    }
    for (const [id, o] of this.orphans) {
      if (o.at < now - maxAgeMs || this.orphans.size > orphans) {
        this.orphans.delete(id);
        this.unmatched += 1;
      }
    }
    if (this.predictions.size !== before.p || this.orphans.size !== before.o) this.dirty = true;
  }

  /** The labelled predictions of the current regime, oldest label first: the last `limit` of them. */
  labelled(limit = this.limits.window): StoredPrediction[] {
    const all = [...this.predictions.values()].filter((p) => p.labelledAt !== undefined && p.labelledAt > this.since);
    all.sort((a, b) => a.labelledAt! - b.labelledAt!);
    return limit === Infinity ? all : all.slice(-limit);
  }

  /** Labels of the current regime that arrived after the last judgement. */
  get fresh(): number {
    const after = Math.max(this.judgedThrough, this.since);
    let n = 0;
    for (const p of this.predictions.values()) if (p.labelledAt !== undefined && p.labelledAt > after) n++;
    return n;
  }

  /** Predictions still waiting for ground truth. */
  get awaiting(): number {
    let n = 0;
    for (const p of this.predictions.values()) if (p.truth === undefined) n++;
    return n;
  }

  /** Labels waiting for their prediction to be collected. */
  get waitingLabels(): number {
    return this.orphans.size;
  }

  /**
   * Recent predictions worth relabelling: of the last `recent` still without ground truth, the `n` the
   * model was least sure of (where a label teaches retraining most). Ids only.
   */
  relabelCandidates(n = 20, recent = 1000): string[] {
    const open = [...this.predictions.values()].filter((p) => p.truth === undefined).slice(-recent);
    return open.sort((a, b) => a.confidence - b.confidence).slice(0, n).map((p) => p.id);
  }

  /** Mark the labels up to `through` as judged. */
  judged(through: number): void {
    if (through > this.judgedThrough) {
      this.judgedThrough = through;
      this.dirty = true;
    }
  }

  /** A new regime (the level changed): the labels so far no longer count. */
  restart(): void {
    let newest = this.since;
    for (const p of this.predictions.values()) if (p.labelledAt !== undefined && p.labelledAt > newest) newest = p.labelledAt;
    if (newest !== this.since) {
      this.since = newest;
      this.dirty = true;
    }
  }

  /** Gzipped JSON, labels by index: about 30 bytes a prediction. */
  encode(): Buffer {
    const labels: string[] = [];
    const index = (l: string) => {
      let i = labels.indexOf(l);
      if (i < 0) i = labels.push(l) - 1;
      return i;
    };
    const doc: Encoded = {
      v: 1, positive: this.positive, labels: [], judgedThrough: this.judgedThrough, since: this.since, unmatched: this.unmatched, expired: this.expired,
      predictions: [...this.predictions.values()].map((p) => [p.id, p.time, p.confidence, index(p.predicted), p.score,
        p.truth === undefined ? -1 : index(p.truth), p.labelledAt ?? 0, ...(p.subgroup ? [p.subgroup] : [])] as Encoded['predictions'][number]),
      orphans: [...this.orphans].map(([id, o]) => [id, index(o.truth), o.at]),
    };
    doc.labels = labels;
    return gzipSync(JSON.stringify(doc));
  }

  /**
   * The store `bytes` hold. A store kept for another positive label scores the wrong class: it is
   * started afresh, as is one that cannot be read (said by `problem`).
   */
  static decode(bytes: Buffer, positive: string, limits: LabelStoreLimits = DEFAULT_LIMITS): { store: LabelStore; problem?: string } {
    const store = new LabelStore(positive, limits);
    let doc: Encoded;
    try {
      // Bounded: a store holds at most capacity + orphans entries of ~100 bytes; a larger one is not ours.
      doc = JSON.parse(gunzipSync(bytes, { maxOutputLength: MAX_DECODED_BYTES }).toString('utf8')) as Encoded;
      if (doc.v !== 1 || !Array.isArray(doc.predictions) || !Array.isArray(doc.labels)) throw new Error('not a version 1 store');
    } catch (err) {
      store.dirty = true;
      return { store, problem: `the stored labelled predictions cannot be read (${(err as Error).message}); starting afresh` };
    }
    if (doc.positive !== positive) {
      store.dirty = true;
      return { store, problem: `the stored predictions were scored for positive label "${doc.positive}", not "${positive}"; starting afresh` };
    }
    const label = (i: number) => doc.labels[i] ?? String(i);
    for (const [id, time, confidence, predicted, score, truth, labelledAt, subgroup] of doc.predictions) {
      store.predictions.set(id, {
        id, time, confidence, predicted: label(predicted), score, ...(typeof subgroup === 'string' ? { subgroup } : {}),
        ...(truth >= 0 ? { truth: label(truth), labelledAt } : {}),
      });
    }
    for (const [id, truth, at] of doc.orphans ?? []) store.orphans.set(id, { truth: label(truth), at });
    Object.assign(store, { judgedThrough: doc.judgedThrough ?? 0, since: doc.since ?? 0, unmatched: doc.unmatched ?? 0, expired: doc.expired ?? 0 });
    return { store };
  }
}
