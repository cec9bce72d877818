// KS from bin counts brackets scipy.stats.ks_2samp on the raw values: D_lower ≤ D ≤ D_upper and
// p(D_upper) ≤ p ≤ p(D_lower). Raw samples, edges and scipy's results from hack/python/reference_values.py.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ksBinned } from '../../../statistics/ks-binned.js';

interface Case { name: string; countsA: number[]; countsB: number[]; statistic: number; pvalue: number }
const fixture = JSON.parse(readFileSync(fileURLToPath(new URL('./fixtures/scipy-reference.json', import.meta.url)), 'utf8')) as { ks_binned: Case[] };

describe.each(fixture.ks_binned)('binned KS: $name', (c) => {
  const r = ksBinned(c.countsA, c.countsB);
  it('brackets the statistic scipy computes on the raw values', () => {
    expect(r.lower.statistic).toBeLessThanOrEqual(c.statistic + 1e-9);
    expect(r.upper.statistic).toBeGreaterThanOrEqual(c.statistic - 1e-9);
  });

  it('brackets the p-value, the lower statistic giving the conservative one', () => {
    expect(r.upper.pValue).toBeLessThanOrEqual(c.pvalue * (1 + 1e-6) + 1e-12);
    expect(r.lower.pValue).toBeGreaterThanOrEqual(c.pvalue * (1 - 1e-6) - 1e-12);
  });

  it('is tight to about one bin\'s share at 100 bins', () => {
    if (c.countsA.length >= 90) expect(r.upper.statistic - r.lower.statistic).toBeLessThan(0.03);
  });
});

it('refuses counts that cannot be two samples over the same bins', () => {
  expect(() => ksBinned([1, 2], [1, 2, 3])).toThrow('same, non-zero length');
  expect(() => ksBinned([0, 0], [1, 2])).toThrow('at least one value');
  expect(() => ksBinned([1.5, 2], [1, 2])).toThrow('whole numbers');
});
