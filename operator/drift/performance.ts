// Performance against ground truth (pure): AUROC, sensitivity and specificity of the predictions
// that received feedback, and the dip against the baseline declared in the ClinicalModel.
//
// AUROC = U / (n₊ · n₋), U the Mann–Whitney statistic of the positive class's score among positives
// against negatives, ties counted one half (average ranks) — equal to the area under the ROC curve.
// Sensitivity = TP / (TP + FN), specificity = TN / (TN + FP), with the predicted label as the decision.
// The dip of a metric is relative: (baseline − current) / baseline. The clinical protocol: a dip of
// 5–10 % is level 1, above 10 % level 2 (spec.monitoring.performance.alertDip and pauseDip).

import { aurocDeLong } from '../../statistics/classification.js';

export interface LabelledPrediction {
  /** Probability the model gave the positive class. */
  positiveScore: number;
  predictedPositive: boolean;
  actuallyPositive: boolean;
}

export interface PerformanceBaseline {
  auroc?: number;
  sensitivity?: number;
  specificity?: number;
}

export interface PerformanceResult {
  labelled: number;
  auroc?: number;
  sensitivity?: number;
  specificity?: number;
  /** Largest relative dip over the metrics with a baseline (0 when none dipped). */
  dip: number;
  level: 0 | 1 | 2;
  insufficient: boolean;
}

/** AUROC by ranks (statistics/classification.ts); undefined when either class is absent. */
export function auroc(preds: readonly LabelledPrediction[]): number | undefined {
  return aurocDeLong(preds.map((p) => ({ score: p.positiveScore, predictedPositive: p.predictedPositive, actuallyPositive: p.actuallyPositive })))?.value;
}

/** The relative dips that make level 1 (alertDip, default 5 %) and level 2 (above pauseDip, default 10 %). */
export interface DipThresholds {
  alertDip: number;
  pauseDip: number;
}

export const PROTOCOL_DIPS: DipThresholds = { alertDip: 0.05, pauseDip: 0.1 };

/** The largest relative dip of the metrics that have a baseline, and the level it calls for. */
export function dipOf(metrics: PerformanceBaseline, baseline: PerformanceBaseline, t: DipThresholds = PROTOCOL_DIPS): { dip: number; level: 0 | 1 | 2 } {
  let dip = 0;
  for (const k of ['auroc', 'sensitivity', 'specificity'] as const) {
    const base = baseline[k];
    const cur = metrics[k];
    if (base === undefined || base <= 0 || cur === undefined) continue;
    dip = Math.max(dip, (base - cur) / base);
  }
  return { dip, level: dip > t.pauseDip ? 2 : dip >= t.alertDip ? 1 : 0 };
}

export function performance(preds: readonly LabelledPrediction[], baseline: PerformanceBaseline, minLabels: number, t: DipThresholds = PROTOCOL_DIPS): PerformanceResult {
  const tp = preds.filter((p) => p.predictedPositive && p.actuallyPositive).length;
  const fn = preds.filter((p) => !p.predictedPositive && p.actuallyPositive).length;
  const tn = preds.filter((p) => !p.predictedPositive && !p.actuallyPositive).length;
  const fp = preds.filter((p) => p.predictedPositive && !p.actuallyPositive).length;
  const result: PerformanceResult = {
    labelled: preds.length,
    auroc: auroc(preds),
    sensitivity: tp + fn > 0 ? tp / (tp + fn) : undefined,
    specificity: tn + fp > 0 ? tn / (tn + fp) : undefined,
    dip: 0,
    level: 0,
    insufficient: preds.length < minLabels,
  };
  if (result.insufficient) return result;
  return { ...result, ...dipOf(result, baseline, t) };
}
