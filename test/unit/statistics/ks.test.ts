// Against scipy.stats.ks_2samp(a, b, method='exact'): D within 1e-9, p within 1e-6. Reference values
// from hack/python/reference_values.py (scipy and numpy versions are recorded in the fixture).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ksExactTwoSided } from '../../../statistics/ks-exact.js';
import { ksStatistic } from '../../../statistics/ks-statistic.js';

interface KsCase { name: string; a: number[]; b: number[]; statistic: number; pvalue: number }
const fixture = JSON.parse(readFileSync(fileURLToPath(new URL('./fixtures/scipy-reference.json', import.meta.url)), 'utf8')) as { ks: KsCase[] };

describe.each(fixture.ks)('two-sample KS: $name', (c) => {
  it('has the statistic D scipy computes', () => {
    expect(Math.abs(ksStatistic(c.a, c.b) - c.statistic)).toBeLessThan(1e-9);
  });

  it('has the exact two-sided p-value scipy computes', () => {
    const r = ksExactTwoSided(c.a.length, c.b.length, ksStatistic(c.a, c.b));
    expect(r).toBeDefined();
    expect(Math.abs(r!.p - c.pvalue)).toBeLessThan(1e-6);
    expect(Math.abs(r!.d - c.statistic)).toBeLessThan(1e-9);
  });
});

describe('ksStatistic', () => {
  it('is symmetric and zero for identical samples', () => {
    expect(ksStatistic([3, 1, 2], [2, 3, 1])).toBe(0);
    expect(ksStatistic([1, 2, 3, 4], [3, 4, 5])).toBe(ksStatistic([3, 4, 5], [1, 2, 3, 4]));
  });

  it('counts ties by the right-continuous CDF', () => {
    // F1 jumps to 1 at 1; F2 is 0.5 at 1 → D = 0.5.
    expect(ksStatistic([1, 1], [1, 2])).toBe(0.5);
  });

  it('refuses empty samples and non-finite values', () => {
    expect(() => ksStatistic([], [1])).toThrow('the first sample is empty');
    expect(() => ksStatistic([1], [1, Number.NaN])).toThrow('the second sample[1] is not a finite number');
  });
});
