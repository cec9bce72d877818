// Drift on what the model sees, on the real control plane: real `clinops serve` processes on loopback
// keep per-feature bin counts (never values), the operator reads them (--model-endpoint) and judges
// every declared feature beside the confidences and the predicted labels.
//   a sepsis MLP that ignores lactate (zero weights, so its confidences cannot move by construction):
//     a trivial lactate shift over 10,000 predictions — significant, too small to matter — raises nothing;
//     a moderate lactate shift raises level 1, naming lactate and only it (status, Event, metrics)
//   a tabular model no test of ours wrote (scikit-learn gradient boosting on the Wisconsin breast cancer
//   data, exported by skl2onnx): one measurement shifted, the operator names it and only it, and
//   `clinops drift-features` on the server's counts prints the same numbers
import { execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { jest } from '@jest/globals';
import { featureReference } from '../../contract/feature-reference.js';
import type { ClinicalModel } from '../../operator/api/types.js';
import type { Operator } from '../../operator/operator.js';
import { repoRoot } from '../../hack/cluster/controlplane.js';
import { mlpForward, mlpGraph, mlpInputs, mlpWeights, rng, writeModel } from '../models/generate.js';
import { serve, type Served } from './server/support.js';
import { createModelsClaim, deleteNamespaces, eventually, getJson, kubectl, model, newNamespace, startOperator } from './support.js';

jest.setTimeout(300_000);
const run = promisify(execFile);
const cli = join(repoRoot, 'dist', 'cli', 'main.js');

const SEPSIS = ['heart_rate', 'resp_rate', 'temperature', 'map', 'lactate', 'wbc', 'creatinine', 'spo2'];
const LACTATE = SEPSIS.indexOf('lactate');
/** The sepsis MLP with every weight from lactate zeroed: its outputs do not depend on lactate at all. */
const weights = (() => {
  const w = mlpWeights();
  w.w1.fill(0, LACTATE * w.hidden, (LACTATE + 1) * w.hidden);
  return w;
})();
const labelOf = (x: number[]) => {
  const p = mlpForward(weights, x);
  return p[1]! > p[0]! ? 'Sepsis' : 'No sepsis';
};

let dir: string;
let sepsis: Served;
let tabular: Served;
let tabularMeta: { features: string[]; labels: string[]; importances: number[]; accuracy: number; holdout_probabilities: number[][] };
let holdout: number[][];
let operator: Operator | undefined;
let sepsisNs: string;
let tabularNs: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'clinops-feature-drift-'));
  // The MLP's reference: 20,000 holdout patients (confidences, labels, per-feature bins).
  const m = writeModel(join(dir, 'sepsis'), 'model.onnx', mlpGraph(weights));
  const rows = mlpInputs(101, 20_000);
  writeFileSync(join(dir, 'sepsis', 'confidence.json'), JSON.stringify(rows.map((x) => Math.max(...mlpForward(weights, x)))));
  writeFileSync(join(dir, 'sepsis', 'features.json'), JSON.stringify(featureReference(rows, SEPSIS, 100)));
  const labels = { 'No sepsis': 0, Sepsis: 0 };
  for (const x of rows) labels[labelOf(x)] += 1;
  writeFileSync(join(dir, 'sepsis', 'labels.json'), JSON.stringify(labels));
  sepsis = await serve({
    file: { path: m.path, sha256: m.sha256, name: 'sepsis', labels: ['No sepsis', 'Sepsis'] },
    args: ['--feature-reference', join(dir, 'sepsis', 'features.json'), '--window-size', '30000'],
  });

  // The scikit-learn model, built by its own toolchain; its reference made as a user makes it.
  const python = execFileSync('bash', [join(repoRoot, 'hack', 'python-env.sh'), 'test'], { encoding: 'utf8' }).trim();
  const t = join(dir, 'tabular');
  await run(python, [join(repoRoot, 'hack', 'python', 'tabular_model.py'), t]);
  tabularMeta = JSON.parse(readFileSync(join(t, 'model.json'), 'utf8'));
  holdout = JSON.parse(readFileSync(join(t, 'holdout.json'), 'utf8'));
  await run(process.execPath, [cli, 'reference', '--model', join(t, 'model.onnx'), '--holdout', join(t, 'holdout.json'), '--out', join(t, 'confidence.json'),
    '--features', tabularMeta.features.join(','), '--features-out', join(t, 'features.json'),
    '--labels', tabularMeta.labels.join(','), '--labels-out', join(t, 'labels.json')]);
  const sha256 = createHash('sha256').update(readFileSync(join(t, 'model.onnx'))).digest('hex');
  tabular = await serve({
    file: { path: join(t, 'model.onnx'), sha256, name: 'breast-cancer', labels: tabularMeta.labels },
    args: ['--feature-reference', join(t, 'features.json')],
  });

  sepsisNs = await newNamespace('features');
  tabularNs = await newNamespace('tabular');
  for (const [ns, folder] of [[sepsisNs, 'sepsis'], [tabularNs, 'tabular']] as const) {
    await createModelsClaim(ns);
    await kubectl(['-n', ns, 'create', 'configmap', 'reference', ...['confidence', 'features', 'labels'].map((k) => `--from-file=${k}.json=${join(dir, folder, `${k}.json`)}`)]);
  }
  operator = await startOperator({ modelEndpoint: [`${sepsisNs}/sepsis=${sepsis.url}`, `${tabularNs}/breast-cancer=${tabular.url}`], identity: 'features-1' });
}, 240_000);

afterAll(async () => {
  await operator?.stop();
  await sepsis?.stop();
  await tabular?.stop();
  await deleteNamespaces();
});

async function predict(s: Served, name: string, xs: number[][]): Promise<void> {
  for (let i = 0; i < xs.length; i += 200) {
    const res = await fetch(`${s.url}/v1/models/${name}/predict`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ instances: xs.slice(i, i + 200) }),
    });
    if (res.status !== 200) throw new Error(`predict answered ${res.status}: ${await res.text()}`);
  }
}

/** The first check after `since` that had enough predictions. */
function checkAfter(ns: string, name: string, since: number, timeoutMs = 60_000): Promise<ClinicalModel> {
  return eventually(`a drift check of ${name} with enough predictions`, async () => {
    const c = await getJson<ClinicalModel>(['-n', ns, 'get', 'clm', name]);
    const d = c.status?.drift;
    return d?.lastCheckTime && Date.parse(d.lastCheckTime) >= Math.floor(since / 1000) * 1000 && d.verdict !== 'InsufficientData' ? c : undefined;
  }, timeoutMs).catch(async (err: Error) => {
    // Say what the last check found, so a failure explains itself.
    const c = await getJson<ClinicalModel>(['-n', ns, 'get', 'clm', name]);
    throw new Error(`${err.message}; status.drift ${JSON.stringify(c.status?.drift)}, phase ${c.status?.phase}`);
  });
}

const metricsText = () => fetch(`http://127.0.0.1:${operator!.probePort}/metrics`).then((r) => r.text());
const metric = (text: string, name: string, ns: string, model: string, signal: string) =>
  Number(new RegExp(`${name}\\{namespace="${ns}",model="${model}",signal="${signal}"\\} (\\S+)`).exec(text)?.[1]);

it('a lactate shift the model cannot see: trivial over 10,000 predictions raises nothing, moderate raises level 1 naming lactate alone', async () => {
  await kubectl(['apply', '--server-side', '-f', '-'], JSON.stringify(model(sepsisNs, 'sepsis', {
    model: { uri: 'pvc://models/sepsis/model.onnx', sha256: 'a'.repeat(64), version: '1.0.0', labels: ['No sepsis', 'Sepsis'] },
    serving: { replicas: 1, gpu: { count: 0 } },
    monitoring: {
      interval: '10s', minSamples: 10_000, features: SEPSIS,
      reference: { configMapRef: { name: 'reference', key: 'confidence.json' }, labelsKey: 'labels.json' },
    },
    escalation: { consecutiveBreaches: 1 },
  })));
  await eventually('Serving', async () => (await getJson<ClinicalModel>(['-n', sepsisNs, 'get', 'clm', 'sepsis'])).status?.phase === 'Serving', 60_000);

  // 1. Lactate up by 0.1 of its range of 2 (KS D ≈ 0.05) in 10,000 predictions: p far below 0.05, but no drift.
  let since = Date.now();
  await predict(sepsis, 'sepsis', mlpInputs(202, 10_000).map((x) => x.map((v, f) => (f === LACTATE ? v + 0.1 : v))));
  let c = await checkAfter(sepsisNs, 'sepsis', since);
  expect(c.status?.drift).toMatchObject({ verdict: 'NoDrift', samples: 10_000, features: 8 });
  expect(c.status?.drift?.signals).toBeUndefined();
  expect(c.status?.escalation?.level ?? 0).toBe(0);
  let text = await metricsText();
  expect(metric(text, 'clinops_drift_signal_pvalue', sepsisNs, 'sepsis', 'lactate')).toBeLessThan(1e-6);
  expect(metric(text, 'clinops_drift_signal_statistic', sepsisNs, 'sepsis', 'lactate')).toBeLessThan(0.1);
  expect(metric(text, 'clinops_drift_signal_verdict', sepsisNs, 'sepsis', 'lactate')).toBe(0);
  // One series per declared feature, plus the confidence and the labels: nothing else in the signal label.
  expect(new Set([...text.matchAll(new RegExp(`clinops_drift_signal_psi\\{namespace="${sepsisNs}",model="sepsis",signal="([^"]+)"`, 'g'))].map((x) => x[1])))
    .toEqual(new Set(['confidence', 'labels', ...SEPSIS]));

  // 2. A quarter of the patients below the median lactate now read above it (KS D 0.125) over 1,000 predictions.
  await kubectl(['-n', sepsisNs, 'patch', 'clm', 'sepsis', '--type=merge', '-p', JSON.stringify({ spec: { monitoring: { minSamples: 1000 } } })]);
  const r = rng(9);
  const shifted = mlpInputs(303, 1000).map((x) => x.map((v, f) => (f === LACTATE && v < 0 && r() < 0.25 ? -v : v)));
  // The confidences of the shifted patients are those of the same patients unshifted: the model ignores lactate.
  expect(shifted.map((x) => mlpForward(weights, x))).toEqual(mlpInputs(303, 1000).map((x) => mlpForward(weights, x)));
  since = Date.now();
  await predict(sepsis, 'sepsis', shifted);
  c = await eventually('level 1', async () => {
    const x = await getJson<ClinicalModel>(['-n', sepsisNs, 'get', 'clm', 'sepsis']);
    return x.status?.escalation?.level === 1 ? x : undefined;
  }, 60_000);
  expect(c.status?.drift).toMatchObject({ verdict: 'Moderate', samples: 1000, features: 8 });
  expect(c.status?.drift?.signals).toEqual([{ name: 'lactate', kind: 'feature', verdict: 'Moderate', psi: expect.any(Number), statistic: expect.any(Number), pValue: expect.any(Number) }]);
  expect(c.status!.drift!.signals![0]!.statistic).toBeGreaterThanOrEqual(0.1);
  expect(c.status?.conditions?.find((x) => x.type === 'DriftDetected')?.message).toContain('drifted: lactate (PSI ');
  expect(await kubectl(['-n', sepsisNs, 'get', 'clm', 'sepsis', '-o', 'wide'])).toMatch(/\bDRIFTED\b[\s\S]*\bModerate\s+lactate\b/);
  const events = await getJson<{ items: Array<{ reason: string; message: string }> }>(['-n', sepsisNs, 'get', 'events', '--field-selector', 'involvedObject.name=sepsis']);
  expect(events.items.find((e) => e.reason === 'DriftDetected')?.message).toMatch(/^moderate drift in lactate: lactate PSI [\d.]+, KS D ≥ [\d.]+ \(p [\d.e-]+, adjusted across features\); confidence PSI/);
  text = await metricsText();
  expect(metric(text, 'clinops_drift_signal_verdict', sepsisNs, 'sepsis', 'lactate')).toBe(1);
  for (const other of ['confidence', 'labels', ...SEPSIS.filter((f) => f !== 'lactate')]) {
    expect([other, metric(text, 'clinops_drift_signal_verdict', sepsisNs, 'sepsis', other)]).toEqual([other, 0]);
  }
});

it('a tabular model no test of ours wrote: one measurement shifted, the operator names it and only it, and the CLI prints the same numbers', async () => {
  const names = tabularMeta.features;
  // A measurement the fitted trees never split on, shifted by one standard deviation for every patient.
  const f = names.findIndex((_, i) => tabularMeta.importances[i] === 0);
  expect(f).toBeGreaterThanOrEqual(0);
  const column = holdout.map((x) => x[f]!);
  const mean = column.reduce((a, b) => a + b, 0) / column.length;
  const sd = Math.sqrt(column.reduce((a, b) => a + (b - mean) ** 2, 0) / column.length);
  const r = rng(17);
  const traffic = Array.from({ length: 1000 }, () => holdout[Math.floor(r() * holdout.length)]!).map((x) => x.map((v, i) => (i === f ? v + sd : v)));

  await kubectl(['apply', '--server-side', '-f', '-'], JSON.stringify(model(tabularNs, 'breast-cancer', {
    model: { uri: 'pvc://models/breast-cancer/model.onnx', sha256: 'b'.repeat(64), version: '1.0.0', labels: tabularMeta.labels },
    serving: { replicas: 1, gpu: { count: 0 } },
    monitoring: { interval: '10s', minSamples: 1000, features: names, reference: { configMapRef: { name: 'reference', key: 'confidence.json' }, labelsKey: 'labels.json' } },
    escalation: { consecutiveBreaches: 1 },
  })));
  await eventually('Serving', async () => (await getJson<ClinicalModel>(['-n', tabularNs, 'get', 'clm', 'breast-cancer'])).status?.phase === 'Serving', 60_000);
  const since = Date.now();
  await predict(tabular, 'breast-cancer', traffic);
  const c = await checkAfter(tabularNs, 'breast-cancer', since);
  expect(c.status?.drift?.features).toBe(30);
  expect(c.status?.drift?.signals?.map((s) => s.name)).toEqual([names[f]]);
  const judged = c.status!.drift!.signals![0]!;

  // The same counts through the CLI: the numbers the operator wrote to status.
  const counts = join(dir, 'tabular', 'current.json');
  writeFileSync(counts, JSON.stringify(await (await fetch(`${tabular.url}/v1/monitoring/features`)).json()));
  const out = await run(process.execPath, [cli, 'drift-features', '--reference', join(dir, 'tabular', 'features.json'), '--current', counts, '--json'])
    .then((x) => x.stdout, (e: { code: number; stdout: string }) => (e.code === 1 ? e.stdout : Promise.reject(e)));
  const report = JSON.parse(out) as { drivers: string[]; signals: Array<{ signal: string; psi: number; effect: number; adjustedP: number }> };
  expect(report.drivers).toEqual([names[f]]);
  const printed = report.signals.find((s) => s.signal === names[f])!;
  const six = (x: number) => Number(x.toPrecision(6));
  expect({ psi: six(printed.psi), statistic: six(printed.effect), pValue: six(printed.adjustedP) }).toEqual({ psi: judged.psi, statistic: judged.statistic, pValue: judged.pValue });

  // The server labels what scikit-learn's own predict_proba says (its second output; the first is the label).
  const res = await fetch(`${tabular.url}/v1/models/breast-cancer/predict`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ instances: holdout.slice(0, 20) }),
  });
  const body = (await res.json()) as { predictions: Array<{ probabilities: Record<string, number> }> };
  body.predictions.forEach((p, i) => tabularMeta.labels.forEach((l, k) => expect(p.probabilities[l]).toBeCloseTo(tabularMeta.holdout_probabilities[i]![k]!, 5)));
  expect(tabularMeta.accuracy).toBeGreaterThan(0.9);
});
