// Many signals judged together: the one shifted feature is named and only it; a trivial shift made
// significant by many predictions is not drift; twenty unshifted features raise nothing although one of
// their raw p-values falls below 0.05 (the Benjamini–Hochberg adjustment); labels by chi-square.
import { binOf } from '../../../../contract/bins.js';
import { featureStatistics, judgeSignals, labelStatistics, mergeBins } from '../../../../operator/drift/signals.js';
import { rng } from '../../../models/generate.js';

const thresholds = { psiModerate: 0.1, psiSignificant: 0.2, ksPValue: 0.05, ksMinStatistic: 0.1 };
const edges = Array.from({ length: 99 }, (_, k) => (k + 1) / 100); // a reference uniform on [0, 1), 100 bins
const countsOf = (values: number[]) => {
  const c = new Array<number>(100).fill(0);
  for (const v of values) c[binOf(edges, v)]! += 1;
  return c;
};
const uniform = (seed: number, n: number, shift = 0) => {
  const r = rng(seed);
  return Array.from({ length: n }, () => r() + shift);
};
const reference = new Array<number>(100).fill(20); // 2,000 holdout rows, equal mass per bin

it('names the one shifted feature, and only it', () => {
  const signals = ['heart_rate', 'resp_rate', 'lactate', 'wbc', 'map'].map((name, i) =>
    featureStatistics(name, reference, countsOf(uniform(100 + i, 1000, name === 'lactate' ? 0.2 : 0))));
  const j = judgeSignals(signals, thresholds);
  expect(j.drivers.map((d) => d.signal)).toEqual(['lactate']);
  expect(j.verdict).toBe('Significant');
  expect(j.drivers[0]).toMatchObject({ kind: 'feature' });
  expect(j.drivers[0]!.effect).toBeGreaterThan(0.15);
});

it('does not call a trivial shift drift when many predictions make it significant', () => {
  const big = new Array<number>(100).fill(200);
  const s = featureStatistics('lactate', big, countsOf(uniform(7, 20_000, 0.03)));
  expect(s.pValue).toBeLessThan(0.001);
  const j = judgeSignals([s], thresholds);
  expect(j.verdict).toBe('NoDrift');
  expect(judgeSignals([s], { ...thresholds, ksMinStatistic: 0 }).verdict).toBe('Moderate');
});

it('raises nothing on twenty unshifted features, though a raw p-value falls below 0.05', () => {
  const signals = Array.from({ length: 20 }, (_, i) => featureStatistics(`f${i}`, reference, countsOf(uniform(300 + i, 400))));
  expect(Math.min(...signals.map((s) => s.pValue))).toBeLessThan(0.05);
  const j = judgeSignals(signals, { ...thresholds, ksMinStatistic: 0, psiModerate: 1, psiSignificant: 2 });
  expect(j.drivers).toEqual([]);
  j.signals.forEach((s) => expect(s.adjustedP).toBeGreaterThanOrEqual(s.pValue));
});

it('judges the predicted labels against the reference\'s by chi-square, with the total variation as the effect', () => {
  const s = labelStatistics([930, 70], [860, 140]); // the sepsis rate doubled
  expect(s.effect).toBeCloseTo(0.07, 10);
  expect(s.pValue).toBeLessThan(1e-10);
  // PSI 0.054 and an effect of 0.07: below the default minimum effect, a doubled rate of a rare label is
  // not drift by itself; a model that needs it caught lowers the minimum.
  expect(s.psi).toBeCloseTo(0.0540, 3);
  expect(judgeSignals([s], thresholds).verdict).toBe('NoDrift');
  expect(judgeSignals([s], { ...thresholds, ksMinStatistic: 0.05 }).verdict).toBe('Moderate');
});

it('merges fine bins into groups of equal reference mass for PSI', () => {
  const [ref, cur] = mergeBins(new Array(100).fill(20), Array.from({ length: 100 }, (_, i) => i), 10);
  expect(ref).toEqual(new Array(10).fill(200));
  expect(cur[0]).toBe(45); // 0 + 1 + … + 9
  expect(cur.reduce((a, b) => a + b, 0)).toBe(4950);
});
