// Ground truth joined to predictions by prediction id, in bounded memory: the oldest predictions are
// forgotten first (a Map iterates in insertion order). Each prediction's first ground truth also goes
// into a ring of labelled predictions that the operator's performance checks read
// (GET /v1/monitoring/feedback), like the monitoring window.
import type { LabelledSample } from '../../contract/monitoring.js';
import { PredictionWindow } from './window.js';

export interface PredictionRecord {
  id: string;
  time: string;
  label: string;
  confidence: number;
  probabilities: number[];
  groundTruth?: string;
}

export class FeedbackStore {
  private readonly byId = new Map<string, PredictionRecord>();
  readonly labelled: PredictionWindow<LabelledSample>;

  constructor(readonly capacity: number, private readonly labels: readonly string[] = [], private readonly clock: () => number = Date.now) {
    this.labelled = new PredictionWindow<LabelledSample>(capacity);
  }

  remember(rec: PredictionRecord): void {
    this.byId.set(rec.id, rec);
    if (this.byId.size > this.capacity) this.byId.delete(this.byId.keys().next().value as string);
  }

  /** Attach the true label; undefined when the prediction is unknown or already forgotten. */
  join(id: string, groundTruth: string): PredictionRecord | undefined {
    const rec = this.byId.get(id);
    if (!rec) return undefined;
    if (rec.groundTruth === undefined) {
      this.labelled.add({
        time: new Date(this.clock()).toISOString(),
        predicted: rec.label,
        groundTruth,
        probabilities: Object.fromEntries(rec.probabilities.map((p, i) => [this.labels[i] ?? String(i), p])),
      });
    }
    rec.groundTruth = groundTruth;
    return rec;
  }
}
