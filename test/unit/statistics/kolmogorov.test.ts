// P(D_n ≥ x) against scipy.stats.kstwo.sf over every region of its algorithm, and the asymptotic
// ks_2samp on large samples against scipy.stats.ks_2samp — p within 1e-6, D within 1e-9. Reference
// values from hack/python/reference_values.py; the large samples are Park–Miller uniforms, generated
// identically here and there.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { kolmogorovSf } from '../../../statistics/kolmogorov-distribution.js';
import { ks2samp } from '../../../statistics/ks-2samp.js';
import { lcgUniform } from '../../models/generate.js';

interface Point { n: number; x: number; sf: number }
interface Large { name: string; seedA: number; nA: number; seedB: number; nB: number; scale: number; shift: number; statistic: number; pvalue: number }
const fixture = JSON.parse(readFileSync(fileURLToPath(new URL('./fixtures/scipy-reference.json', import.meta.url)), 'utf8')) as {
  kstwo: Point[]; ks_large: Large[]; ks: Array<{ name: string; a: number[]; b: number[]; statistic: number; pvalue: number }>;
};

describe('kolmogorovSf', () => {
  it.each(fixture.kstwo.map((p) => [p.n, p.x, p.sf]))('n=%d x=%f equals scipy.stats.kstwo.sf', (n, x, sf) => {
    expect(Math.abs(kolmogorovSf(n, x) - sf)).toBeLessThan(1e-6);
  });
});

describe.each(fixture.ks_large)('ks2samp, asymptotic: $name', (c) => {
  it('equals scipy.stats.ks_2samp', () => {
    const a = lcgUniform(c.seedA, c.nA);
    const b = lcgUniform(c.seedB, c.nB, c.scale, c.shift);
    const r = ks2samp(a, b);
    expect(r.method).toBe('asymptotic');
    expect(Math.abs(r.statistic - c.statistic)).toBeLessThan(1e-9);
    expect(Math.abs(r.pValue - c.pvalue)).toBeLessThan(1e-6);
  });
});

describe('ks2samp, exact', () => {
  it.each(fixture.ks.map((c) => [c.name, c]))('%s: equals scipy.stats.ks_2samp', (_name, c) => {
    const r = ks2samp(c.a, c.b);
    expect(r.method).toBe('exact');
    expect(Math.abs(r.pValue - c.pvalue)).toBeLessThan(1e-6);
  });
});
