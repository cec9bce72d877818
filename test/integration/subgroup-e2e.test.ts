// Performance without labels, per subgroup, on the real control plane with a real `clinops serve` process
// (read through --model-endpoint, as in drift-e2e):
//   the model's acceptance (`clinops accept`, per site) gives the baselines and its calibration
//   (--calibration-out), kept in the reference ConfigMap;
//   two sites send traffic, each naming itself in the x-clinops-site header; site-b's patients are the
//   hard cases (inputs near the decision: a covariate shift, no concept shift), so its estimated AUROC
//   dips by more than 10 % while the whole population's dips by less than 5 %;
//   → level 2 naming site-b, marked estimated, before any label arrives;
//   then site-b's labels arrive and its realized AUROC confirms the dip;
//   `clinops report` then writes the model's report from the cluster, opened in a real browser.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { jest } from '@jest/globals';
import type { ClinicalModel } from '../../operator/api/types.js';
import type { Operator } from '../../operator/operator.js';
import type { AcceptanceReport } from '../../operator/acceptance/report.js';
import { repoRoot } from '../../hack/cluster/controlplane.js';
import { logisticWeights, mlpForward, mlpInputs, rng } from '../models/generate.js';
import { serve, type Served, testModels } from './server/support.js';
import { adminKubeconfig, createModelsClaim, deleteNamespaces, eventually, getJson, kubectl, model, newNamespace, startOperator } from './support.js';
import { withPage } from './browser.js';
import type { ReportData } from '../../operator/governance/report/data.js';

jest.setTimeout(300_000);

const NAME = 'sepsis';
const HEADER = 'x-clinops-site';
const weights = logisticWeights();
const sepsisProbability = (x: number[]) => mlpForward(weights, x)[1]!;
const draw = (xs: number[][], seed: number) => {
  const r = rng(seed);
  return xs.map((x) => (r() < sepsisProbability(x) ? 'Sepsis' : 'No sepsis'));
};

let server: Served;
let operator: Operator | undefined;
let ns: string;
let dir: string;
let report: AcceptanceReport;
let calibration: string;

beforeAll(async () => {
  // The holdout: 2,000 patients, their outcomes drawn from the model's own probabilities, half at each site.
  dir = mkdtempSync(join(tmpdir(), 'clinops-subgroups-'));
  const instances = mlpInputs(101, 2000);
  const holdout = { instances, labels: draw(instances, 909), subgroups: instances.map((_, i) => (i % 2 === 0 ? 'site-a' : 'site-b')), subgroup: 'site' };
  writeFileSync(join(dir, 'holdout.json'), JSON.stringify(holdout));
  const m = testModels().logistic!;
  const { stdout } = await promisify(execFile)(process.execPath, [join(repoRoot, 'dist', 'cli', 'main.js'), 'accept', '--model', m.path, '--sha256', m.sha256,
    '--holdout', join(dir, 'holdout.json'), '--labels', 'No sepsis,Sepsis', '--json', '--calibration-out', join(dir, 'calibration.json')]);
  report = JSON.parse(stdout) as AcceptanceReport;
  calibration = readFileSync(join(dir, 'calibration.json'), 'utf8');
  server = await serve({ model: 'logistic', args: ['--subgroup-header', HEADER, '--subgroups', 'site-a,site-b'] });
});

afterAll(async () => {
  await operator?.stop();
  await server?.stop();
  await deleteNamespaces();
});

const auroc = (r: { metrics: Array<{ name: string; value: number }> }) => r.metrics.find((x) => x.name === 'auroc')!.value;
const clm = () => getJson<ClinicalModel>(['-n', ns, 'get', 'clm', NAME]);

/** Send the patients as one site's client would, 20 per request; the prediction ids, in order. */
async function predict(xs: number[][], site: string): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < xs.length; i += 20) {
    const res = await fetch(`${server.url}/v1/models/${NAME}/predict`, {
      method: 'POST', headers: { 'content-type': 'application/json', [HEADER]: site }, body: JSON.stringify({ instances: xs.slice(i, i + 20) }),
    });
    if (res.status !== 200) throw new Error(`predict answered ${res.status}: ${await res.text()}`);
    ids.push(...((await res.json()) as { predictions: Array<{ id: string }> }).predictions.map((p) => p.id));
  }
  return ids;
}

it('the model meets the protocol on its holdout and is calibrated enough to estimate', () => {
  expect(report.n).toBe(2000);
  // The protocol's own thresholds (AUROC ≥ 0.85, sensitivity ≥ 0.9, ECE < 0.05), per site too.
  expect(report.failures).toEqual([]);
  expect(report.pass).toBe(true);
  expect(auroc(report)).toBeGreaterThan(0.9);
  expect(report.subgroups.map((g) => g.name).sort()).toEqual(['site-a', 'site-b']);
  const c = JSON.parse(calibration);
  expect(c).toMatchObject({ positiveLabel: 'Sepsis', cases: 2000 });
  expect(Math.min(c.ece.raw, c.ece.isotonic)).toBeLessThan(0.05);
});

it('refuses a site the model does not declare, naming the header (nothing but declared names is recorded)', async () => {
  const res = await fetch(`${server.url}/v1/models/${NAME}/predict`, {
    method: 'POST', headers: { 'content-type': 'application/json', [HEADER]: 'Mrs Smith, ward 4' }, body: JSON.stringify({ instances: mlpInputs(1, 1) }),
  });
  expect(res.status).toBe(400);
  expect(await res.json()).toMatchObject({ code: 'INVALID_DATA', field: `header ${HEADER}` });
});

it('one site\'s estimated dip escalates to level 2 and names it before any label; its labels then confirm it', async () => {
  try {
    await story();
  } finally {
    await operator?.stop();
    operator = undefined;
  }
});

async function story(): Promise<void> {
  ns = await newNamespace('subgroups');
  await createModelsClaim(ns);
  const confidences = mlpInputs(101, 2000).map((x) => Math.max(...mlpForward(weights, x)));
  await kubectl(['-n', ns, 'create', 'configmap', 'sepsis-reference', `--from-literal=confidence.json=${JSON.stringify(confidences)}`, `--from-literal=calibration.json=${calibration}`]);
  operator = await startOperator({ modelEndpoint: [`${ns}/${NAME}=${server.url}`], identity: 'subgroups-1' });
  const site = (name: string) => ({ name, baseline: { auroc: Number(auroc(report.subgroups.find((g) => g.name === name)!).toFixed(4)) } });
  const baseline = Number(auroc(report).toFixed(4));
  await kubectl(['apply', '--server-side', '-f', '-'], JSON.stringify(model(ns, NAME, {
    model: { uri: `pvc://models/${NAME}/model.onnx`, sha256: testModels().logistic!.sha256, version: '1.0.0', labels: ['No sepsis', 'Sepsis'] },
    serving: { replicas: 2, gpu: { count: 0 } },
    monitoring: {
      interval: '10s', minSamples: 200,
      reference: { configMapRef: { name: 'sepsis-reference', key: 'confidence.json' }, calibrationKey: 'calibration.json' },
      // This story is about performance: the confidences' drift thresholds are set out of its way.
      psi: { bins: 10, moderate: 5, significant: 10 }, ks: { pValue: 1e-12, minStatistic: 0.9 },
      performance: { minLabels: 50, baseline: { auroc: baseline } },
      subgroups: { header: HEADER, minCases: 100, groups: [site('site-a'), site('site-b')] },
    },
    // Level 2 scales down rather than pausing, so the site's labels can still be read and judged.
    escalation: { consecutiveBreaches: 1, level2: { action: 'ScaleDown', replicas: 1 } },
    // And a report for the clinical team, written by the operator, every week.
    governance: { reportEvery: '7d' },
    modelCard: { intendedUse: 'sepsis warning for adults in the emergency department', outOfScope: 'children', limitations: 'two sites',
      trainingData: 'synthetic, 2,000 patients', performance: 'AUROC 0.96 on its holdout', owner: 'sepsis team', contact: 'sepsis-ai@hospital.example' },
  } as Partial<ClinicalModel['spec']>)));
  await eventually('Serving', async () => (await clm()).status?.phase === 'Serving', 60_000);

  // 1,000 patients at site-a like the holdout; 200 at site-b, all hard cases.
  const hard = mlpInputs(303, 200, 0.2);
  await predict(mlpInputs(202, 1000), 'site-a');
  const siteB = await predict(hard, 'site-b');
  const c = await eventually('level 2', async () => {
    const x = await clm();
    return x.status?.escalation?.level === 2 ? x : undefined;
    // Checks run every 10 s; the rest is room for a fake node's pods found unready for a while on a loaded
    // machine (seen once in CI, cause not yet found: the failure below says the pods' state).
  }, 150_000).catch(async (err: Error) => {
    const now = await clm();
    const pods = (await getJson(['-n', ns, 'get', 'pods'])).items as Array<{ metadata: { name: string }; status?: { conditions?: Array<{ type: string; status: string }> } }>;
    const ready = pods.map((p) => `${p.metadata.name} ${p.status?.conditions?.find((x) => x.type === 'Ready')?.status}`);
    throw new Error(`${err.message}; phase ${now.status?.phase}, pods [${ready.join(', ')}], status.drift ${JSON.stringify(now.status?.drift)}`);
  });
  const perf = c.status!.drift!.performance!;
  expect(perf.judgedOn).toBe('estimated');
  expect(perf.estimated!.dip!).toBeLessThan(0.05);
  const [a, b] = perf.subgroups!;
  expect(a).toMatchObject({ name: 'site-a', cases: 1000, judged: true, judgedOn: 'estimated', level: 0 });
  expect(b).toMatchObject({ name: 'site-b', cases: 200, judged: true, judgedOn: 'estimated', level: 2 });
  expect(b!.dip!).toBeGreaterThan(0.1);
  const esc = c.status!.escalation!;
  expect(esc.reason).toMatch(/^estimated performance dip ≥ [\d.]+% in subgroup site-b \(CBPE, before labels/);
  expect(esc.history?.at(-1)).toMatchObject({ from: 0, to: 2, estimated: true });
  expect(esc.incident?.reason).toContain('subgroup site-b');
  const events = (await getJson(['-n', ns, 'get', 'events', '--field-selector', `involvedObject.name=${NAME},involvedObject.kind=ClinicalModel`])).items as Array<{ reason: string; message: string }>;
  expect(events.find((e) => e.reason === 'Escalated')?.message).toMatch(/^level 0 → 2 \(ScaleDown\): estimated performance dip ≥ [\d.]+% in subgroup site-b \(CBPE, before labels/);
  expect(events.find((e) => e.reason === 'PerformanceDip')?.message).toContain('site-b');

  // site-b's outcomes arrive (drawn from the model's probabilities: no concept shift); its realized AUROC confirms the dip.
  const outcomes = draw(hard, 1717);
  for (let i = 0; i < siteB.length; i++) {
    const res = await fetch(`${server.url}/v1/feedback`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ predictionId: siteB[i], label: outcomes[i] }) });
    if (res.status >= 300) throw new Error(`feedback answered ${res.status}: ${await res.text()}`);
  }
  const confirmed = await eventually('site-b judged on its labels', async () => {
    const x = await clm();
    return x.status?.drift?.performance?.subgroups?.find((g) => g.name === 'site-b' && g.judgedOn === 'realized') ? x : undefined;
  }, 60_000);
  const realized = confirmed.status!.drift!.performance!.subgroups!.find((g) => g.name === 'site-b')!;
  expect(realized.realized!.labelled).toBe(200);
  expect(realized.realized!.auroc!).toBeLessThan(site('site-b').baseline.auroc * 0.9);
  expect(realized.level).toBe(2);
  expect(confirmed.status!.escalation!.level).toBe(2);
  await reportStory();
}

/** The report from the cluster (the operator's history record), as JSON and as HTML opened in chromium. */
async function reportStory(): Promise<void> {
  // The operator's own, written when the model came and due again in a week.
  const written = (await clm()).status!.report!;
  expect(written).toMatchObject({ configMap: `${NAME}-report` });
  const cm = await getJson(['-n', ns, 'get', 'configmap', `${NAME}-report`]);
  expect(cm.metadata.labels['clinops.dev/record']).toBe('report');
  expect(cm.data['report.html']).toMatch(/^<!doctype html>/);

  const cli = (args: string[]) => promisify(execFile)(process.execPath, [join(repoRoot, 'dist', 'cli', 'main.js'), 'report', '--model', NAME, '-n', ns,
    '--since', '1h', '--kubeconfig', adminKubeconfig(), ...args], { maxBuffer: 16 * 1024 * 1024 });
  const data = JSON.parse((await cli(['--json'])).stdout) as ReportData;
  expect(data.checks.length).toBeGreaterThanOrEqual(2);
  expect(data.checks.some((c) => c.groups?.some((g) => g.name === 'site-b' && g.est !== undefined))).toBe(true);
  expect(data.checks.some((c) => c.groups?.some((g) => g.name === 'site-b' && g.real !== undefined))).toBe(true);
  expect(data.escalation.at(-1)).toMatchObject({ from: 0, to: 2, estimated: true });
  expect(data.incidents).toHaveLength(1);
  const file = join(dir, 'report.html');
  await cli(['--out', file]);
  const html = readFileSync(file, 'utf8');
  // Self-contained: no URL but the SVG namespaces'.
  expect(html.match(/https?:\/\/[^"'\s)]+/g)?.filter((u) => !u.startsWith('http://www.w3.org/')) ?? []).toEqual([]);
  const artifacts = join(repoRoot, 'test', 'artifacts');
  mkdirSync(artifacts, { recursive: true });
  await withPage(html, async (page, requests) => {
    const svgs = await page.$$eval('figure svg', (xs) => xs.map((x) => ({ marks: x.querySelectorAll('path, line, rect, circle').length, text: x.textContent ?? '' })));
    expect(svgs).toHaveLength(3);
    for (const s of svgs) {
      expect(s.marks).toBeGreaterThan(10);
      expect(s.text).toContain('check time');
    }
    expect(svgs[0]!.text).toContain('PSI');
    expect(svgs[1]!.text).toContain('AUROC');
    expect(svgs[1]!.text).toContain('site-b');
    expect(await page.textContent('body')).toContain('subgroup site-b');
    await page.screenshot({ path: join(artifacts, 'report.png'), fullPage: true });
    const pdf = await page.pdf({ format: 'A4', printBackground: true });
    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
    writeFileSync(join(artifacts, 'report.pdf'), pdf);
    expect(requests).toEqual([]);
  });
}
