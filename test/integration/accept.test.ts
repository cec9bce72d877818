// `clinops accept` on a labelled holdout none of our tests wrote: scikit-learn's breast-cancer data and
// a gradient-boosting model exported by skl2onnx (hack/python/tabular_model.py). The metrics equal
// scikit-learn's on the same scores (to 1e-9), and the exit code follows the thresholds.
import { execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { jest } from '@jest/globals';
import { modelProbabilities } from '../../inference-server/model/probabilities.js';
import type { AcceptanceReport, MetricResult } from '../../operator/acceptance/report.js';
import { repoRoot } from '../../hack/cluster/controlplane.js';

jest.setTimeout(180_000);
const run = promisify(execFile);
const cli = join(repoRoot, 'dist', 'cli', 'main.js');

let dir: string;
let python: string;
let sha256: string;
let holdout: { instances: number[][]; labels: string[]; subgroups: string[] };
const LABELS = 'malignant,benign';

/** `clinops accept` on the model and holdout, with extra options: the exit code and what it printed. */
async function accept(extra: string[]): Promise<{ code: number; out: string; err: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [cli, 'accept', '--model', join(dir, 'model.onnx'), '--sha256', sha256,
      '--holdout', join(dir, 'labelled-holdout.json'), '--labels', LABELS, '--positive', 'malignant', ...extra]);
    return { code: 0, out: stdout, err: stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, out: err.stdout, err: err.stderr };
  }
}

const metric = (r: AcceptanceReport, name: string) => r.metrics.find((m) => m.name === name) as MetricResult;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'clinops-accept-'));
  python = execFileSync('bash', [join(repoRoot, 'hack', 'python-env.sh'), 'test'], { encoding: 'utf8' }).trim();
  await run(python, [join(repoRoot, 'hack', 'python', 'tabular_model.py'), dir]);
  sha256 = createHash('sha256').update(readFileSync(join(dir, 'model.onnx'))).digest('hex');
  holdout = JSON.parse(readFileSync(join(dir, 'labelled-holdout.json'), 'utf8'));
});

it('reports AUROC, sensitivity, specificity, ECE and Brier equal to scikit-learn\'s on the same scores', async () => {
  const { code, out } = await accept(['--json', '--min-auroc', '0', '--min-sensitivity', '0', '--max-ece', '1',
    '--subgroup-min-auroc', '0', '--subgroup-min-sensitivity', '0']);
  expect(code).toBe(0);
  const r = JSON.parse(out) as AcceptanceReport & { model: { sha256: string }; holdout: { sha256: string; subgroup: string } };
  expect(r.n).toBe(holdout.instances.length);
  expect(r.model.sha256).toBe(sha256);
  expect(r.holdout).toEqual({ sha256: createHash('sha256').update(readFileSync(join(dir, 'labelled-holdout.json'))).digest('hex'), subgroup: 'tumour size' });
  // The same scores the command judged (the same runner), handed to scikit-learn.
  const rows = await modelProbabilities(join(dir, 'model.onnx'), holdout.instances, 'holdout');
  const cases = {
    scores: rows.map((p) => p[0]!),
    actual: holdout.labels.map((l) => (l === 'malignant' ? 1 : 0)),
    predicted: rows.map((p) => (p[0]! > p[1]! ? 1 : 0)),
    bins: 10,
  };
  writeFileSync(join(dir, 'cases.json'), JSON.stringify(cases));
  const sk = JSON.parse((await run(python, [join(repoRoot, 'hack', 'python', 'acceptance_reference.py'), join(dir, 'cases.json')])).stdout) as Record<string, number>;
  for (const name of ['auroc', 'sensitivity', 'specificity', 'ece', 'brier']) {
    expect(Math.abs(metric(r, name).value - sk[name]!)).toBeLessThan(1e-9);
  }
  // Each interval holds its estimate and says how it was made.
  for (const m of r.metrics) {
    expect(m.low).toBeLessThanOrEqual(m.value);
    expect(m.high).toBeGreaterThanOrEqual(m.value);
  }
  expect(r.metrics.map((m) => [m.name, m.interval.split(';')[0]])).toEqual([['auroc', 'DeLong'], ['sensitivity', 'Wilson score'], ['specificity', 'Wilson score'],
    ['ece', 'percentile bootstrap, 2000 resamples'], ['brier', 'percentile bootstrap, 2000 resamples']]);
  // Per subgroup, on that subgroup's cases alone.
  expect(r.subgroups.map((g) => g.name)).toEqual(['large', 'small']);
  const large = holdout.subgroups.map((g, i) => [g, i] as const).filter(([g]) => g === 'large').map(([, i]) => i);
  writeFileSync(join(dir, 'large.json'), JSON.stringify({ ...cases, scores: large.map((i) => cases.scores[i]), actual: large.map((i) => cases.actual[i]),
    predicted: large.map((i) => cases.predicted[i]) }));
  const skLarge = JSON.parse((await run(python, [join(repoRoot, 'hack', 'python', 'acceptance_reference.py'), join(dir, 'large.json')])).stdout) as Record<string, number>;
  const g = r.subgroups[0]!;
  expect(g.n).toBe(large.length);
  expect(Math.abs(g.metrics.find((m) => m.name === 'auroc')!.value - skLarge.auroc!)).toBeLessThan(1e-9);
  expect(Math.abs(g.metrics.find((m) => m.name === 'sensitivity')!.value - skLarge.sensitivity!)).toBeLessThan(1e-9);
});

it('exits by the thresholds: 0 when every check passes, 1 naming what failed, 2 for a wrong sha256 or a bad holdout', async () => {
  const r = JSON.parse((await accept(['--json', '--min-sensitivity', '0', '--max-ece', '1', '--subgroup-min-auroc', '0', '--subgroup-min-sensitivity', '0'])).out) as AcceptanceReport;
  const auroc = metric(r, 'auroc');
  const loose = ['--min-sensitivity', '0', '--max-ece', '1', '--subgroup-min-auroc', '0', '--subgroup-min-sensitivity', '0'];
  const below = (auroc.value - 0.001).toFixed(6);
  const above = (auroc.value + 0.001).toFixed(6);
  const pass = await accept(['--min-auroc', below, ...loose]);
  expect(pass.code).toBe(0);
  expect(pass.out).toMatch(/\nPASS\n$/);
  const fail = await accept(['--min-auroc', above, ...loose]);
  expect(fail.code).toBe(1);
  expect(fail.out).toContain(`FAIL: auroc ${Number(auroc.value.toPrecision(4))} < ${Number(above)}`);
  // Judged on the interval's lower bound, the estimate clearing the threshold is not enough.
  const between = ((auroc.low + auroc.value) / 2).toFixed(6);
  expect((await accept(['--min-auroc', between, ...loose])).code).toBe(0);
  const strict = await accept(['--min-auroc', between, '--lower-bound', ...loose]);
  expect(strict.code).toBe(1);
  expect(strict.out).toContain('auroc (lower bound of the 95% interval)');
  // A subgroup that falls short fails the model, by name.
  const sub = await accept(['--min-sensitivity', '0', '--max-ece', '1', '--subgroup-min-auroc', '0', '--subgroup-min-sensitivity', '1']);
  expect(sub.code).toBe(1);
  expect(sub.out).toMatch(/FAIL: .*subgroup (large|small): sensitivity/);
  const wrong = await accept(['--sha256', 'b'.repeat(64)]);
  expect(wrong.code).toBe(2);
  expect(wrong.err).toContain(`sha256 of ${join(dir, 'model.onnx')} is ${sha256}, expected ${'b'.repeat(64)}; not run`);
  writeFileSync(join(dir, 'bad.json'), JSON.stringify({ instances: holdout.instances.slice(0, 2), labels: ['malignant', 'cancerous'] }));
  const bad = await run(process.execPath, [cli, 'accept', '--model', join(dir, 'model.onnx'), '--sha256', sha256, '--holdout', join(dir, 'bad.json'), '--labels', LABELS])
    .then(() => ({ code: 0, stderr: '' }), (e: { code: number; stderr: string }) => e);
  expect(bad.code).toBe(2);
  expect(bad.stderr).toContain('labels[1] is "cancerous", not one of the model\'s labels (malignant, benign)');
});
