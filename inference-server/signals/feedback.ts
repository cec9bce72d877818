// Ground truth, in bounded memory. Every report (POST /v1/feedback) goes into a ring the operator reads
// (GET /v1/monitoring/feedback) and joins with the predictions it collected from every replica's window:
// a label may name a prediction another replica made, or one made days ago. The predictions this replica
// made recently are remembered too (the oldest forgotten first: a Map iterates in insertion order), so
// the answer can say what the model predicted when it is known here.
import type { GroundTruthSample } from '../../contract/monitoring.js';
import { PredictionWindow } from './window.js';

export interface PredictionRecord {
  id: string;
  label: string;
}

export class FeedbackStore {
  private readonly byId = new Map<string, PredictionRecord>();
  readonly reports: PredictionWindow<GroundTruthSample>;

  constructor(readonly capacity: number, private readonly clock: () => number = Date.now) {
    this.reports = new PredictionWindow<GroundTruthSample>(capacity);
  }

  remember(rec: PredictionRecord): void {
    this.byId.set(rec.id, rec);
    if (this.byId.size > this.capacity) this.byId.delete(this.byId.keys().next().value as string);
  }

  /** Record the true label of a prediction; what this replica predicted for it, when it made it recently. */
  report(predictionId: string, groundTruth: string): PredictionRecord | undefined {
    this.reports.add({ time: new Date(this.clock()).toISOString(), predictionId, groundTruth });
    return this.byId.get(predictionId);
  }
}
