// Isotonic calibration and the performance estimate built on it (CBPE), on values worked by hand. Their
// agreement with scikit-learn's IsotonicRegression and NannyML's CBPE on 100,000 cases is in
// test/integration/cbpe-nannyml.test.ts.
import { estimate, estimatePerformance } from '../../../statistics/cbpe.js';
import { calibrate, fitCalibration, fitIsotonic, isotonicProblem } from '../../../statistics/isotonic.js';
import { parkMiller } from '../../../statistics/classification.js';

describe('isotonic calibration', () => {
  it('pools adjacent violators and interpolates between the scores it keeps', () => {
    const map = fitIsotonic([0.5, 0.1, 0.3, 0.2, 0.4], [true, false, false, true, true]);
    expect(map).toEqual({ x: [0.1, 0.2, 0.3, 0.4, 0.5], y: [0, 0.5, 0.5, 1, 1] });
    expect(calibrate(map, 0.25)).toBeCloseTo(0.5, 12);
    expect(calibrate(map, 0.35)).toBeCloseTo(0.75, 12);
    // Outside the holdout's scores: clipped.
    expect(calibrate(map, 0)).toBe(0);
    expect(calibrate(map, 1)).toBe(1);
  });

  it('pools equal scores first and keeps only the ends of a constant run', () => {
    expect(fitIsotonic([0.2, 0.2, 0.4], [true, false, true])).toEqual({ x: [0.2, 0.4], y: [0.5, 1] });
    expect(fitIsotonic([0.1, 0.2, 0.3, 0.4], [false, false, false, true])).toEqual({ x: [0.1, 0.3, 0.4], y: [0, 0, 1] });
  });

  it('says what makes a stored map unusable', () => {
    expect(isotonicProblem({ x: [0.1, 0.2], y: [0, 1] })).toBeUndefined();
    expect(isotonicProblem({ x: [0.2, 0.1], y: [0, 1] })).toMatch(/strictly increasing/);
    expect(isotonicProblem({ x: [0.1, 0.2], y: [0.6, 0.5] })).toMatch(/non-decreasing/);
    expect(isotonicProblem({ x: [0.1], y: [] })).toMatch(/same, non-zero length/);
  });

  it('keeps the map only when it lowers the calibration error out of sample', () => {
    const u = parkMiller(11);
    // Calibrated scores: the outcome drawn from the score itself. Then the same cases scored too confidently.
    const scores = Array.from({ length: 4000 }, () => u());
    const positive = scores.map((s) => u() < s);
    const calibrated = fitCalibration(scores, positive);
    expect(calibrated.ece.raw).toBeLessThan(0.03);
    const overconfident = fitCalibration(scores.map((s) => (s > 0.5 ? 0.5 + (s - 0.5) / 4 + 0.375 : s / 4)), positive);
    expect(overconfident.map).toBeDefined();
    expect(overconfident.ece.raw).toBeGreaterThan(0.1);
    expect(overconfident.ece.isotonic).toBeLessThan(0.03);
  });
});

describe('CBPE', () => {
  it('sums each case as p of a positive: sensitivity, specificity and the expected ROC curve', () => {
    // Two decided positive (p 0.9, 0.6), two decided negative (p 0.3, 0.2).
    const e = estimate([0.9, 0.6, 0.3, 0.2], [0.9, 0.6, 0.3, 0.2], [true, true, false, false]);
    expect(e.sensitivity).toBeCloseTo(1.5 / 2.0, 12);
    expect(e.specificity).toBeCloseTo(1.5 / 2.0, 12);
    expect(e.positiveRate).toBe(0.5);
    // Σ over pairs p_i (1 − p_j) for i ranked above j, over Σp · Σ(1 − p), with each case's own pair left in.
    const p = [0.9, 0.6, 0.3, 0.2];
    let area = 0;
    let tpr = 0;
    let fpr = 0;
    for (const x of p) {
      area += ((1 - x) / 2) * (2 * tpr + x / 2) / 2;
      tpr += x / 2;
      fpr += (1 - x) / 2;
    }
    expect(fpr).toBeCloseTo(1, 12);
    expect(e.auroc).toBeCloseTo(area, 12);
  });

  it('puts the realized value of calibrated cases inside its interval about 95 times in 100', () => {
    const u = parkMiller(5);
    let inside = 0;
    for (let run = 0; run < 100; run++) {
      const scores = Array.from({ length: 500 }, () => u());
      const truth = scores.map((s) => u() < s);
      const decided = scores.map((s) => s >= 0.5);
      const e = estimatePerformance(scores, scores, decided, 200, run + 1);
      const tp = truth.filter((t, i) => t && decided[i]).length;
      const realized = tp / truth.filter((t) => t).length;
      if (realized >= e.sensitivity!.low && realized <= e.sensitivity!.high) inside++;
    }
    expect(inside).toBeGreaterThanOrEqual(88);
    // Not so wide that it always holds.
    expect(inside).toBeLessThanOrEqual(99);
  });
});
