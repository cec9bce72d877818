// Against scipy.stats.false_discovery_control(ps, method='bh') (hack/python/reference_values.py).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { benjaminiHochberg } from '../../../statistics/benjamini-hochberg.js';

interface Case { name: string; p: number[]; adjusted: number[] }
const fixture = JSON.parse(readFileSync(fileURLToPath(new URL('./fixtures/scipy-reference.json', import.meta.url)), 'utf8')) as { benjamini_hochberg: Case[] };

it.each(fixture.benjamini_hochberg.map((c) => [c.name, c] as const))('adjusts as scipy does: %s', (_name, c) => {
  benjaminiHochberg(c.p).forEach((q, i) => expect(Math.abs(q - c.adjusted[i]!)).toBeLessThan(1e-12));
});

it('keeps the input order, never lowers a p-value, and refuses what is not a probability', () => {
  const q = benjaminiHochberg([0.04, 0.001, 0.5]);
  expect(q[1]).toBeCloseTo(0.003, 12);
  q.forEach((x, i) => expect(x).toBeGreaterThanOrEqual([0.04, 0.001, 0.5][i]!));
  expect(benjaminiHochberg([])).toEqual([]);
  expect(() => benjaminiHochberg([0.1, 1.2])).toThrow('[0, 1]');
});
