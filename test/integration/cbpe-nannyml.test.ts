// Performance estimated without labels (statistics/cbpe.ts, statistics/isotonic.ts) against NannyML's own
// CBPE, on a data set none of our tests wrote: NannyML's synthetic car-loan data (50,000 reference and
// 50,000 analysis cases, in chunks of 5,000), run by hack/python/cbpe_reference.py in the test venv.
import { execFile, execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { jest } from '@jest/globals';
import { estimatePerformance } from '../../statistics/cbpe.js';
import { calibrate, fitCalibration } from '../../statistics/isotonic.js';
import { repoRoot } from '../../hack/cluster/controlplane.js';

jest.setTimeout(300_000);

interface Chunk {
  scores: number[];
  decided: number[];
  nannyml?: { roc_auc: number; recall: number; specificity: number };
  realized: { roc_auc: number; recall: number; specificity: number };
}
let data: { reference: { scores: number[]; labels: number[] }; needsCalibration: boolean; chunks: Chunk[]; conceptShift: Chunk };

beforeAll(async () => {
  const python = execFileSync('bash', [join(repoRoot, 'hack', 'python-env.sh'), 'test'], { encoding: 'utf8' }).trim();
  const { stdout } = await promisify(execFile)(python, [join(repoRoot, 'hack', 'python', 'cbpe_reference.py')], { maxBuffer: 64 * 1024 * 1024 });
  data = JSON.parse(stdout);
});

const fitted = () => fitCalibration(data.reference.scores, data.reference.labels.map((y) => y === 1));
const estimated = (fit: ReturnType<typeof fitted>, c: Chunk) =>
  estimatePerformance(c.scores, c.scores.map((s) => (fit.map ? calibrate(fit.map, s) : s)), c.decided.map((x) => x === 1));

it('decides to calibrate as NannyML does, and estimates AUROC, sensitivity and specificity equal to its CBPE', () => {
  const fit = fitted();
  expect(fit.map !== undefined).toBe(data.needsCalibration);
  expect(fit.ece.isotonic).toBeLessThan(fit.ece.raw);
  expect(data.chunks).toHaveLength(10);
  for (const c of data.chunks) {
    const e = estimated(fit, c);
    expect(e.auroc!.value).toBeCloseTo(c.nannyml!.roc_auc, 6);
    expect(e.sensitivity!.value).toBeCloseTo(c.nannyml!.recall, 6);
    expect(e.specificity!.value).toBeCloseTo(c.nannyml!.specificity, 6);
    for (const m of [e.auroc!, e.sensitivity!, e.specificity!]) expect(m.low).toBeLessThan(m.high);
  }
});

it('follows a covariate shift: where the realized AUROC falls, the estimate falls with it', () => {
  const fit = fitted();
  const before = data.chunks.slice(0, 5);
  const after = data.chunks.slice(5);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const realizedFall = mean(before.map((c) => c.realized.roc_auc)) - mean(after.map((c) => c.realized.roc_auc));
  const estimatedFall = mean(before.map((c) => estimated(fit, c).auroc!.value)) - mean(after.map((c) => estimated(fit, c).auroc!.value));
  expect(realizedFall).toBeGreaterThan(0.005);
  expect(estimatedFall).toBeGreaterThan(0.005);
  expect(Math.abs(estimatedFall - realizedFall)).toBeLessThan(0.005);
  // Each chunk's estimate is within 0.01 of what its labels later said.
  for (const c of data.chunks) expect(Math.abs(estimated(fit, c).auroc!.value - c.realized.roc_auc)).toBeLessThan(0.01);
});

it('cannot see a concept shift: the same scores, other labels — the estimate stays, so the labels must win', () => {
  const fit = fitted();
  const c = data.conceptShift;
  const e = estimated(fit, c);
  // The realized AUROC fell by more than 0.2; the estimate (the first chunk's scores) did not move.
  expect(c.realized.roc_auc).toBeLessThan(e.auroc!.value - 0.2);
  expect(e.auroc!.value).toBeCloseTo(estimated(fit, data.chunks[0]!).auroc!.value, 9);
  expect(c.realized.roc_auc).toBeLessThan(e.auroc!.low);
});
