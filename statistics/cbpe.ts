// Confidence-based performance estimation (CBPE; NannyML's method, pure): a binary classifier's
// performance on cases whose labels have not arrived, from its calibrated scores. If a score s is
// calibrated — of the cases scored s, a fraction p(s) is positive — then each case is expected to be
// p(s) of a positive and 1 − p(s) of a negative, and the confusion matrix at the model's decision is the
// sum of those expectations:
//   sensitivity ≈ Σ_{decided +} p / Σ p,   specificity ≈ Σ_{decided −} (1 − p) / Σ (1 − p),
//   AUROC ≈ the area under the expected ROC curve: cases by score, highest first, the expected true and
//   false positives so far Σ p and Σ (1 − p) as the threshold passes each score (equal scores together).
// It assumes the calibration, fitted on the holdout, still holds: P(positive | score) unchanged (no
// concept shift). A covariate shift — other patients, scored as before — is what it sees.
//
// Interval: where the realized value would fall on these same cases if that holds. Labels are drawn
// from each case's p (seeded; `draws` times), the realized metric computed each time, and the 2.5 and
// 97.5 percentiles kept. (It leaves out the calibration map's own error from a finite holdout.)
import { type Estimate, midranks, parkMiller } from './classification.js';
import { quantileLinearSorted } from './quantile-linear.js';

export interface EstimatedPerformance {
  cases: number;
  auroc?: Estimate;
  sensitivity?: Estimate;
  specificity?: Estimate;
  /** The fraction the model decided positive (no label needed: exact, no interval). */
  positiveRate: number;
}

/** Point estimates alone, NannyML's figures (AUROC over distinct scores; no rounding of the running sums). */
export function estimate(scores: readonly number[], calibrated: readonly number[], decidedPositive: readonly boolean[]): Omit<EstimatedPerformance, 'auroc' | 'sensitivity' | 'specificity'> & { auroc?: number; sensitivity?: number; specificity?: number } {
  const n = scores.length;
  let sumP = 0;
  let tp = 0;
  let tn = 0;
  let decided = 0;
  for (let i = 0; i < n; i++) {
    const p = calibrated[i]!;
    sumP += p;
    if (decidedPositive[i]) {
      tp += p;
      decided++;
    } else {
      tn += 1 - p;
    }
  }
  const sumQ = n - sumP;
  return {
    cases: n,
    ...(sumP > 0 ? { sensitivity: tp / sumP } : {}),
    ...(sumQ > 0 ? { specificity: tn / sumQ } : {}),
    ...(sumP > 0 && sumQ > 0 ? { auroc: expectedAuroc(scores, calibrated, sumP, sumQ) } : {}),
    positiveRate: n > 0 ? decided / n : 0,
  };
}

function expectedAuroc(scores: readonly number[], calibrated: readonly number[], sumP: number, sumQ: number): number {
  const order = scores.map((_, i) => i).sort((a, b) => scores[b]! - scores[a]!);
  let area = 0;
  let tpr = 0;
  let fpr = 0;
  for (let i = 0; i < order.length;) {
    let dp = 0;
    let dq = 0;
    let j = i;
    for (; j < order.length && scores[order[j]!] === scores[order[i]!]; j++) {
      dp += calibrated[order[j]!]!;
      dq += 1 - calibrated[order[j]!]!;
    }
    const nextTpr = tpr + dp / sumP;
    const nextFpr = fpr + dq / sumQ;
    area += (nextFpr - fpr) * (tpr + nextTpr) / 2;
    tpr = nextTpr;
    fpr = nextFpr;
    i = j;
  }
  return area;
}

/**
 * The estimates with their intervals (labels drawn from the calibrated probabilities; seeded): `coverage`
 * 0.95 by default; several groups judged at once widen it (Bonferroni: 1 − 0.05 / groups).
 */
export function estimatePerformance(scores: readonly number[], calibrated: readonly number[], decidedPositive: readonly boolean[], draws = 200, seed = 20_261_205, coverage = 0.95): EstimatedPerformance {
  const point = estimate(scores, calibrated, decidedPositive);
  const n = scores.length;
  const out: EstimatedPerformance = { cases: n, positiveRate: point.positiveRate };
  if (n === 0) return out;
  // Midranks of the scores (fixed across draws): a draw's AUROC is its positives' rank sum, Mann–Whitney.
  const ranks = midranks(scores);
  const uniform = parkMiller(seed);
  const aurocs: number[] = [];
  const sens: number[] = [];
  const spec: number[] = [];
  for (let d = 0; d < draws; d++) {
    let pos = 0;
    let rankSum = 0;
    let tp = 0;
    let tn = 0;
    for (let i = 0; i < n; i++) {
      const positive = uniform() < calibrated[i]!;
      if (positive) {
        pos++;
        rankSum += ranks[i]!;
        if (decidedPositive[i]) tp++;
      } else if (!decidedPositive[i]) {
        tn++;
      }
    }
    const neg = n - pos;
    if (pos > 0) sens.push(tp / pos);
    if (neg > 0) spec.push(tn / neg);
    if (pos > 0 && neg > 0) aurocs.push((rankSum - (pos * (pos + 1)) / 2) / (pos * neg));
  }
  const interval = (value: number | undefined, xs: number[]): Estimate | undefined => {
    if (value === undefined || xs.length < draws / 2) return undefined;
    xs.sort((a, b) => a - b);
    const tail = (1 - coverage) / 2;
    return { value, low: Math.min(value, quantileLinearSorted(xs, tail)), high: Math.max(value, quantileLinearSorted(xs, 1 - tail)) };
  };
  const auroc = interval(point.auroc, aurocs);
  const sensitivity = interval(point.sensitivity, sens);
  const specificity = interval(point.specificity, spec);
  return { ...out, ...(auroc ? { auroc } : {}), ...(sensitivity ? { sensitivity } : {}), ...(specificity ? { specificity } : {}) };
}
