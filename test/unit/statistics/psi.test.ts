// Against numpy: edges from numpy.quantile (linear), duplicates merged with numpy.unique, bins from
// numpy.searchsorted(side='left') (right-closed), proportions floored at 1e-4. Reference values from
// hack/python/reference_values.py.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { psi } from '../../../statistics/psi.js';
import { quantileLinearSorted } from '../../../statistics/quantile-linear.js';

interface PsiCase { name: string; reference: number[]; current: number[]; bins: number; psi: number; edges: number[] }
const fixture = JSON.parse(readFileSync(fileURLToPath(new URL('./fixtures/scipy-reference.json', import.meta.url)), 'utf8')) as { psi: PsiCase[] };

describe.each(fixture.psi)('PSI: $name', (c) => {
  it('matches the numpy reference, edges and value', () => {
    const r = psi(c.reference, c.current, c.bins);
    expect(r.edges).toHaveLength(c.edges.length);
    r.edges.forEach((e, i) => expect(Math.abs(e - c.edges[i]!)).toBeLessThan(1e-12));
    expect(Math.abs(r.psi - c.psi)).toBeLessThan(1e-9);
  });
});

describe('psi', () => {
  it('is 0 for the same sample and grows with the shift', () => {
    const ref = Array.from({ length: 1000 }, (_, i) => i / 1000);
    expect(psi(ref, ref).psi).toBe(0);
    const small = psi(ref, ref.map((x) => x * 0.95)).psi;
    const large = psi(ref, ref.map((x) => x * 0.6)).psi;
    expect(small).toBeGreaterThan(0);
    expect(large).toBeGreaterThan(small);
  });

  it('puts a value equal to an edge in the lower bin', () => {
    const r = psi([0, 1, 2, 3, 4], [1, 1, 1, 1], 2); // one edge at 2; 1 ≤ 2 → lower bin
    expect(r.edges).toEqual([2]);
    expect(r.actual).toEqual([1, 1e-4]);
  });

  it('refuses fewer than two bins, empty samples and non-finite values', () => {
    expect(() => psi([1, 2], [1, 2], 1)).toThrow('bins must be a whole number ≥ 2');
    expect(() => psi([], [1])).toThrow('the reference sample is empty');
    expect(() => psi([1], [Infinity])).toThrow('not a finite number');
  });
});

describe('quantileLinearSorted', () => {
  it('interpolates like numpy.quantile (linear)', () => {
    // numpy.quantile([1, 2, 4, 8], [0, 0.25, 0.5, 0.9, 1]) = [1, 1.75, 3, 6.8, 8]
    expect([0, 0.25, 0.5, 0.9, 1].map((p) => quantileLinearSorted([1, 2, 4, 8], p))).toEqual([1, 1.75, 3, expect.closeTo(6.8, 12), 8]);
  });
});
