import { aurocDeLong, bootstrap, brier, type Case, ece, sensitivity, specificity, wilson } from '../../../statistics/classification.js';
import { acceptance, PROTOCOL } from '../../../operator/acceptance/report.js';

const c = (score: number, actuallyPositive: boolean): Case => ({ score, predictedPositive: score >= 0.5, actuallyPositive });

describe('classification metrics', () => {
  it('AUROC counts ties one half, with DeLong\'s interval around it', () => {
    // positives 0.9, 0.6, 0.4; negatives 0.6, 0.3: pairs won 2 + 1.5 (tie) + 1 + (0.4 > 0.3) = 5 of 6
    const cases = [c(0.9, true), c(0.6, true), c(0.4, true), c(0.6, false), c(0.3, false)];
    const a = aurocDeLong(cases)!;
    expect(a.value).toBeCloseTo(4.5 / 6, 12);
    // V10 = [1, 0.75, 0.5], V01 = [1 - 1.5/3, 1 - 3/3] = [0.5, 0]: var = 0.0625/3 + 0.125/2
    const se = Math.sqrt(0.0625 / 3 + 0.125 / 2);
    expect(a.low).toBeCloseTo(4.5 / 6 - 1.959963984540054 * se, 12);
    expect(a.high).toBe(1); // clipped
    expect(aurocDeLong([c(0.9, true)])).toBeUndefined();
  });

  it('proportions with the Wilson score interval', () => {
    // 9 of 10: Wilson 95% [0.5958, 0.9821] (Newcombe 1998's table)
    const w = wilson(9, 10)!;
    expect([w.value, Number(w.low.toFixed(4)), Number(w.high.toFixed(4))]).toEqual([0.9, 0.5958, 0.9821]);
    expect(wilson(0, 0)).toBeUndefined();
    const cases = [c(0.9, true), c(0.2, true), c(0.1, false), c(0.7, false)];
    expect(sensitivity(cases)!.value).toBe(0.5);
    expect(specificity(cases)!.value).toBe(0.5);
  });

  it('ECE over equal-width bins, a value on an inner edge in the lower bin; Brier', () => {
    // bins of 0.5: [0, 0.5] holds 0.5 (edge) and 0.1 → mean p 0.3, positives 1/2 → |0.5 − 0.3| = 0.2, weight 1/2;
    // (0.5, 1] holds 0.9 → |1 − 0.9| = 0.1, weight 1/2
    const cases = [c(0.5, true), c(0.1, false), c(0.9, true)];
    expect(ece(cases, 2)).toBeCloseTo((2 / 3) * 0.2 + (1 / 3) * 0.1, 12);
    expect(brier(cases)).toBeCloseTo((0.25 + 0.01 + 0.01) / 3, 12);
  });

  it('bootstraps the same interval from the same data', () => {
    const cases = Array.from({ length: 200 }, (_, i) => c((i % 10) / 10 + 0.05, i % 3 === 0));
    const a = bootstrap(cases, brier);
    expect(a).toEqual(bootstrap(cases, brier));
    expect(a.low).toBeLessThan(a.value);
    expect(a.high).toBeGreaterThan(a.value);
  });
});

describe('acceptance', () => {
  // 100 positives scored 0.55–0.95, 100 negatives 0.05–0.45: perfectly separated and well calibrated enough
  const good = [...Array.from({ length: 100 }, (_, i) => c(0.55 + (i / 100) * 0.4, true)), ...Array.from({ length: 100 }, (_, i) => c(0.05 + (i / 100) * 0.4, false))];

  it('passes a model that clears every threshold, and names each failing one', () => {
    const r = acceptance(good, 'Sepsis', { ...PROTOCOL, maxEce: 0.3 });
    expect(r.pass).toBe(true);
    expect(r.metrics.map((m) => [m.name, m.pass])).toEqual([['auroc', true], ['sensitivity', true], ['specificity', undefined], ['ece', true], ['brier', undefined]]);
    const missed = good.map((x, i) => (i < 20 ? { ...x, predictedPositive: false } : x)); // 20 positives missed: sensitivity 0.8
    const f = acceptance(missed, 'Sepsis', { ...PROTOCOL, maxEce: 0.3 });
    expect(f.pass).toBe(false);
    expect(f.failures).toEqual(['sensitivity 0.8 < 0.9']);
  });

  it('with lowerBound, judges the interval: a small holdout cannot pass by luck', () => {
    const small = [...good.slice(0, 9), ...good.slice(100, 109)]; // 9 of 9 found: sensitivity 1, Wilson low ≈ 0.70
    expect(acceptance(small, 'Sepsis', { ...PROTOCOL, maxEce: 0.5 }).pass).toBe(true);
    const strict = acceptance(small, 'Sepsis', { ...PROTOCOL, maxEce: 0.5, lowerBound: true });
    expect(strict.pass).toBe(false);
    expect(strict.failures[0]).toMatch(/^sensitivity \(lower bound of the 95% interval\) 0\.70\d* < 0\.9$/);
  });

  it('judges each subgroup big enough and with both classes, and reports the rest', () => {
    const groups = good.map((_, i) => (i % 2 === 0 ? 'female' : i < 100 ? 'male' : 'other'));
    // 'other' holds negatives only: reported, not judged
    const r = acceptance(good, 'Sepsis', { ...PROTOCOL, maxEce: 0.3 }, groups);
    expect(r.subgroups.map((g) => [g.name, g.n, g.notJudged])).toEqual([['female', 100, undefined], ['male', 50, '50 positive of 50: AUROC needs both classes'],
      ['other', 50, '0 positive of 50: AUROC needs both classes']]);
    const worse = good.map((x, i) => (i % 2 === 0 && i < 40 ? { ...x, predictedPositive: false } : x)); // female: 20 of 50 positives missed
    expect(acceptance(worse, 'Sepsis', { ...PROTOCOL, maxEce: 0.3, minSensitivity: 0.5 }, groups).failures).toEqual(['subgroup female: sensitivity 0.6 < 0.9']);
  });
});
