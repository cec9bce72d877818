// Against scipy.stats.chisquare and scipy.special.gammaincc (hack/python/reference_values.py).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chiSquare } from '../../../statistics/chi-square.js';
import { regularizedGammaQ } from '../../../statistics/incomplete-gamma.js';

interface ChiCase { name: string; observed: number[]; proportions: number[]; statistic: number; pvalue: number }
interface QCase { a: number; x: number; q: number }
const fixture = JSON.parse(readFileSync(fileURLToPath(new URL('./fixtures/scipy-reference.json', import.meta.url)), 'utf8')) as
  { chi_square: ChiCase[]; gammaincc: QCase[] };

it.each(fixture.chi_square.map((c) => [c.name, c] as const))('tests label counts against reference proportions as scipy does: %s', (_n, c) => {
  const r = chiSquare(c.observed, c.proportions);
  expect(Math.abs(r.statistic - c.statistic)).toBeLessThan(1e-9 * Math.max(1, c.statistic));
  expect(Math.abs(r.pValue - c.pvalue)).toBeLessThan(1e-10 + 1e-9 * c.pvalue);
  expect(r.df).toBe(c.observed.length - 1);
});

it('computes Q(a, x) as scipy.special.gammaincc does, across both of its methods', () => {
  for (const c of fixture.gammaincc) {
    const q = regularizedGammaQ(c.a, c.x);
    expect([c.a, c.x, Math.abs(q - c.q) <= 1e-12 + 1e-10 * c.q]).toEqual([c.a, c.x, true]);
  }
});

it('refuses a category the reference never saw, and fewer than two categories', () => {
  expect(() => chiSquare([5, 5], [1, 0])).toThrow('category 1 has no expected count');
  expect(() => chiSquare([5], [1])).toThrow('at least two categories');
});
