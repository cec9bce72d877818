// Isotonic calibration of a binary classifier's scores (pure): the non-decreasing step-and-ramp map from
// a score to the probability that the case is positive that fits labelled cases best in squared error
// (pool-adjacent-violators, Ayer et al. 1955), as scikit-learn's IsotonicRegression(increasing=True,
// out_of_bounds='clip') fits it: equal scores pooled first (their mean label, weighted by count), the
// fit kept at the first and last score of each constant run, a score between two kept scores
// interpolated linearly, one outside them clipped to the nearest.

import { ece } from './classification.js';

export interface IsotonicMap {
  /** Scores, strictly increasing. */
  x: number[];
  /** The calibrated probability at each, non-decreasing, in [0, 1]. */
  y: number[];
}

export function fitIsotonic(scores: readonly number[], positive: readonly boolean[]): IsotonicMap {
  if (scores.length !== positive.length) throw new Error('scores and labels differ in length');
  if (scores.length === 0) throw new Error('no cases to calibrate on');
  const order = scores.map((_, i) => i).sort((a, b) => scores[a]! - scores[b]!);
  // Unique scores with their mean label and count.
  const xs: number[] = [];
  const means: number[] = [];
  const weights: number[] = [];
  for (const i of order) {
    const s = scores[i]!;
    if (!Number.isFinite(s)) throw new Error(`score ${s} is not a finite number`);
    const y = positive[i] ? 1 : 0;
    const last = xs.length - 1;
    if (last >= 0 && xs[last] === s) {
      means[last] = (means[last]! * weights[last]! + y) / (weights[last]! + 1);
      weights[last]! += 1;
    } else {
      xs.push(s);
      means.push(y);
      weights.push(1);
    }
  }
  // Pool adjacent violators: blocks of (mean, weight, length), merged while a block's mean is below its predecessor's.
  const bMean: number[] = [];
  const bWeight: number[] = [];
  const bLength: number[] = [];
  for (let i = 0; i < xs.length; i++) {
    let m = means[i]!;
    let w = weights[i]!;
    let len = 1;
    while (bMean.length > 0 && bMean[bMean.length - 1]! >= m) {
      const pm = bMean.pop()!;
      const pw = bWeight.pop()!;
      m = (pm * pw + m * w) / (pw + w);
      w += pw;
      len += bLength.pop()!;
    }
    bMean.push(m);
    bWeight.push(w);
    bLength.push(len);
  }
  const fitted: number[] = [];
  for (let b = 0; b < bMean.length; b++) for (let k = 0; k < bLength[b]!; k++) fitted.push(bMean[b]!);
  // Only the ends of each constant run change the interpolation.
  const x: number[] = [];
  const y: number[] = [];
  for (let i = 0; i < xs.length; i++) {
    const run = i > 0 && i < xs.length - 1 && fitted[i - 1] === fitted[i] && fitted[i + 1] === fitted[i];
    if (!run) {
      x.push(xs[i]!);
      y.push(fitted[i]!);
    }
  }
  return { x, y };
}

/** The calibrated probability of a score. */
export function calibrate(map: IsotonicMap, score: number): number {
  const { x, y } = map;
  if (score <= x[0]!) return y[0]!;
  const last = x.length - 1;
  if (score >= x[last]!) return y[last]!;
  let lo = 0;
  let hi = last;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (x[mid]! <= score) lo = mid;
    else hi = mid;
  }
  const t = (score - x[lo]!) / (x[hi]! - x[lo]!);
  return y[lo]! + t * (y[hi]! - y[lo]!);
}

/** Is a value a usable map: x strictly increasing and finite, y non-decreasing in [0, 1], equal lengths? Says why not. */
export function isotonicProblem(map: { x?: unknown; y?: unknown }): string | undefined {
  const { x, y } = map;
  if (!Array.isArray(x) || !Array.isArray(y) || x.length === 0 || x.length !== y.length) return 'x and y must be arrays of the same, non-zero length';
  for (let i = 0; i < x.length; i++) {
    if (typeof x[i] !== 'number' || !Number.isFinite(x[i]) || (i > 0 && !(x[i] > x[i - 1]))) return `x must be finite and strictly increasing (at ${i})`;
    if (typeof y[i] !== 'number' || !(y[i] >= 0 && y[i] <= 1) || (i > 0 && y[i] < y[i - 1])) return `y must be in [0, 1] and non-decreasing (at ${i})`;
  }
  return undefined;
}

export interface CalibrationFit {
  /** The isotonic map, or none when calibrating did not lower the error out of sample (the scores are used as they are). */
  map?: IsotonicMap;
  cases: number;
  /** Expected calibration error (10 equal-width bins) of the scores as they are, and of the isotonic map's, out of sample. */
  ece: { raw: number; isotonic: number };
}

/**
 * Fit the calibration on labelled cases, and decide (as NannyML does) whether to use it: the isotonic
 * map is fitted in `folds`-fold cross-validation (stratified, seeded), and kept only if the held-out
 * cases' calibration error is lower with it than with the scores as they are.
 */
export function fitCalibration(scores: readonly number[], positive: readonly boolean[], folds = 10, bins = 10, seed = 20_261_205): CalibrationFit {
  const n = scores.length;
  const fold = new Int32Array(n);
  // Stratified: each class's cases in a seeded random order, dealt out to the folds in turn.
  let state = seed;
  const next = () => (state = (state * 48271) % 2147483647) / 2147483647;
  for (const cls of [true, false]) {
    const idx = scores.map((_, i) => i).filter((i) => positive[i] === cls);
    for (let i = idx.length - 1; i > 0; i--) {
      const j = Math.floor(next() * (i + 1));
      [idx[i], idx[j]] = [idx[j]!, idx[i]!];
    }
    idx.forEach((i, k) => (fold[i] = k % folds));
  }
  const held = new Float64Array(n);
  for (let f = 0; f < folds; f++) {
    const train = scores.map((_, i) => i).filter((i) => fold[i] !== f);
    if (train.length === 0) continue;
    const map = fitIsotonic(train.map((i) => scores[i]!), train.map((i) => positive[i]!));
    for (let i = 0; i < n; i++) if (fold[i] === f) held[i] = calibrate(map, scores[i]!);
  }
  const cases = (xs: ArrayLike<number>) => Array.from(xs, (score, i) => ({ score, predictedPositive: false, actuallyPositive: positive[i]! }));
  const raw = ece(cases(scores), bins);
  const isotonic = ece(cases(held), bins);
  return { ...(isotonic < raw ? { map: fitIsotonic(scores, positive) } : {}), cases: n, ece: { raw, isotonic } };
}
