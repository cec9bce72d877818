// The whole drift and escalation story on the real control plane, with a real `clinops serve`
// process serving a generated model on loopback (the operator reads its monitoring window through
// --model-endpoint, as an operator outside the cluster does):
//   reference traffic → NoDrift, Serving
//   moderately shifted traffic → Moderate → level 1 (Alert: Event, status, review due in 48 h)
//   strongly shifted traffic → Significant → level 2 (Pause: Deployment at 0 replicas, phase Paused)
//   the operator stopped and a new one started → level kept, no action taken twice
//   a reviewer's acknowledgement → level 0, replicas restored
//   a patient-safety event → level 3 at once (Shutdown: 0 replicas, phase ShutDown, incident record)
import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import { dirname } from 'node:path';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { jest } from '@jest/globals';
import type { ClinicalModel } from '../../operator/api/types.js';
import { ks2samp } from '../../statistics/ks-2samp.js';
import { psi } from '../../statistics/psi.js';
import { servingCert } from '../../hack/cluster/certs.js';
import { OPERATOR_USER } from '../../hack/cluster/install.js';
import { sepsisConfidences, sepsisReference, sepsisTraffic } from '../models/drift-traffic.js';
import { mlpInputs as inputs } from '../models/generate.js';
import { serve, type Served } from './server/support.js';
import { adminKubeconfig, auditLog, createModelsClaim, deleteNamespaces, eventually, getJson, kubectl, model, newNamespace, startOperator } from './support.js';
import type { Operator } from '../../operator/operator.js';

jest.setTimeout(300_000);

const NAME = 'sepsis';
const confidences = sepsisConfidences;
const reference = sepsisReference;
const traffic = sepsisTraffic;

let server: Served;
let operator: Operator | undefined;
let ns: string;

beforeAll(async () => {
  server = await serve({ model: 'logistic' });
});

afterAll(async () => {
  await operator?.stop();
  await server?.stop();
  await deleteNamespaces();
});

async function clm(): Promise<ClinicalModel> {
  return getJson<ClinicalModel>(['-n', ns, 'get', 'clm', NAME]);
}

/** Send the instances as a client would, 20 per request, one request after another. */
async function predict(xs: number[][]): Promise<void> {
  for (let i = 0; i < xs.length; i += 20) {
    const res = await fetch(`${server.url}/v1/models/sepsis/predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ instances: xs.slice(i, i + 20) }),
    });
    if (res.status !== 200) throw new Error(`predict answered ${res.status}: ${await res.text()}`);
  }
}

async function events(): Promise<Array<{ type: string; reason: string; message: string; count?: number }>> {
  const list = await getJson(['-n', ns, 'get', 'events', '--field-selector', `involvedObject.name=${NAME},involvedObject.kind=ClinicalModel`]);
  return list.items;
}

async function deploymentReplicas(): Promise<number | undefined> {
  return (await getJson(['-n', ns, 'get', 'deployment', NAME])).spec?.replicas;
}

/** Wait for a drift check that ran after `since` to reach a verdict other than InsufficientData. */
async function verdictAfter(since: number): Promise<ClinicalModel> {
  try {
    return await eventually('a drift check with enough predictions', async () => {
      const c = await clm();
      const d = c.status?.drift;
      return d?.lastCheckTime && Date.parse(d.lastCheckTime) >= Math.floor(since / 1000) * 1000 && d.verdict !== 'InsufficientData' ? c : undefined;
    }, 60_000);
  } catch (err) {
    // Say what the last check found, so a failure explains itself.
    const c = await clm();
    const pods = await getJson(['-n', ns, 'get', 'pods', '-o', 'json']).catch(() => ({ items: [] }));
    const nodes = await getJson(['get', 'nodes']).catch(() => ({ items: [] }));
    const deployment = await getJson(['-n', ns, 'get', 'deployment', NAME]).catch(() => ({}));
    throw new Error(`${(err as Error).message}; status.drift ${JSON.stringify(c.status?.drift)}, phase ${c.status?.phase}, ` +
      `window seq ${((await (await fetch(`${server.url}/v1/monitoring/window?limit=1`)).json()) as { seq: number }).seq}; ` +
      `deployment ${JSON.stringify({ generation: deployment.metadata?.generation, status: deployment.status })}; ` +
      `pods ${JSON.stringify(pods.items.map((p: any) => ({ name: p.metadata.name, node: p.spec.nodeName, phase: p.status.phase, deleting: p.metadata.deletionTimestamp, // eslint-disable-line @typescript-eslint/no-explicit-any
        ready: p.status.conditions?.find((x: { type: string }) => x.type === 'Ready') })))}; ` +
      `nodes ${JSON.stringify(nodes.items.map((n: any) => ({ name: n.metadata.name, ready: n.status.conditions?.find((x: { type: string }) => x.type === 'Ready') })))}`); // eslint-disable-line @typescript-eslint/no-explicit-any
  }
}

it('the test traffic is what each step needs (checked with the same statistics)', () => {
  const judge = (xs: number[][]) => ({ psi: psi(reference, confidences(xs)).psi, p: ks2samp(reference, confidences(xs)).pValue });
  expect(judge(traffic.clean).psi).toBeLessThan(0.1);
  expect(judge(traffic.clean).p).toBeGreaterThan(0.05);
  expect(judge(traffic.moderate).psi).toBeGreaterThan(0.1);
  expect(judge(traffic.moderate).psi).toBeLessThan(0.2);
  expect(judge(traffic.strong).psi).toBeGreaterThan(0.2);
});

it('drift raises the level, pauses the model, a reviewer resumes it, a safety event shuts it down', async () => {
  try {
    await driftStory();
  } finally {
    await operator?.stop(); // release the Lease for the next test's operator, whatever happened
    operator = undefined;
  }
});

async function driftStory(): Promise<void> {
  ns = await newNamespace('drift');
  await createModelsClaim(ns);
  await kubectl(['-n', ns, 'create', 'configmap', 'sepsis-reference', `--from-literal=confidence.json=${JSON.stringify(reference)}`]);
  const flags = { modelEndpoint: [`${ns}/${NAME}=${server.url}`] };
  operator = await startOperator({ ...flags, identity: 'drift-1' });
  await kubectl(['apply', '--server-side', '-f', '-'], JSON.stringify(model(ns, NAME, {
    serving: { replicas: 2, gpu: { count: 0 } },
    monitoring: { interval: '10s', minSamples: 200, reference: { configMapRef: { name: 'sepsis-reference', key: 'confidence.json' } } },
    escalation: { consecutiveBreaches: 1, level1: { action: 'Alert', reviewWithin: '48h' }, level2: { action: 'Pause' }, level3: { action: 'Shutdown' } },
  })));
  await eventually('Serving', async () => (await clm()).status?.phase === 'Serving', 60_000);

  // 1. Traffic like the reference: no drift.
  let t = Date.now();
  await predict(traffic.clean);
  let c = await verdictAfter(t);
  expect(c.status?.drift).toMatchObject({ verdict: 'NoDrift', samples: 400, replicasRead: 1 });
  expect(c.status?.escalation?.level ?? 0).toBe(0);
  expect(c.status?.conditions?.find((x) => x.type === 'DriftDetected')).toMatchObject({ status: 'False', reason: 'NoDrift' });
  const metrics = await fetch(`http://127.0.0.1:${operator.probePort}/metrics`).then((r) => r.text());
  expect(metrics).toMatch(new RegExp(`clinops_drift_psi\\{namespace="${ns}",model="${NAME}"\\} 0\\.0\\d+`));
  expect(metrics).toContain(`clinops_escalation_level{namespace="${ns}",model="${NAME}"} 0`);

  // 2. A moderate shift: level 1, an alert with the numbers and a review due in 48 h; still serving.
  t = Date.now();
  await predict(traffic.moderate);
  c = await eventually('level 1', async () => ((await clm()).status?.escalation?.level === 1 ? clm() : undefined), 40_000);
  expect(c.status?.drift?.verdict).toBe('Moderate');
  const esc1 = c.status!.escalation!;
  expect(Date.parse(esc1.reviewDueBy!) - Date.parse(esc1.since!)).toBe(48 * 3_600_000);
  expect(esc1.history?.[0]).toMatchObject({ from: 0, to: 1, psi: c.status?.drift?.psi });
  expect(c.status?.conditions?.find((x) => x.type === 'Escalated')).toMatchObject({ status: 'True', reason: 'Level1Alert' });
  expect(await deploymentReplicas()).toBe(2);
  const ev1 = await events();
  expect(ev1.find((e) => e.reason === 'DriftDetected')?.message).toMatch(/moderate drift: PSI 0\.1\d+, KS D [\d.]+ \(p [\d.e-]+\) over 400 predictions/);
  expect(ev1.find((e) => e.reason === 'Escalated')).toMatchObject({ type: 'Warning', message: expect.stringContaining('level 0 → 1 (Alert)') });
  expect(Date.now() - t).toBeLessThan(40_000);

  // 3. A strong shift: level 2, Pause: the Deployment is scaled to zero on the API server.
  await predict(traffic.strong);
  await eventually('level 2 and Paused', async () => {
    const x = await clm();
    return x.status?.escalation?.level === 2 && x.status.phase === 'Paused';
  }, 40_000).catch(async (err: Error) => {
    // Say what the last check found, so a failure explains itself.
    const x = await clm();
    throw new Error(`${err.message}; status.drift ${JSON.stringify(x.status?.drift)}, escalation ${JSON.stringify(x.status?.escalation)}, ` +
      `phase ${x.status?.phase}, window seq ${((await (await fetch(`${server.url}/v1/monitoring/window?limit=1`)).json()) as { seq: number }).seq}`);
  });
  await eventually('Deployment at 0 replicas', async () => (await deploymentReplicas()) === 0);
  expect((await clm()).status?.drift?.verdict).toBe('Significant');

  // 4. The operator stops mid-story; a new one keeps the level and repeats nothing.
  await new Promise((r) => setTimeout(r, 1000));
  await operator.stop();
  operator = undefined;
  const eventsBefore = await events();
  const audit = auditLog();
  audit.mark();
  operator = await startOperator({ ...flags, identity: 'drift-2' });
  await new Promise((r) => setTimeout(r, 12_000)); // more than one check interval
  c = await clm();
  expect(c.status?.escalation?.level).toBe(2);
  expect(c.status?.phase).toBe('Paused');
  expect(await deploymentReplicas()).toBe(0);
  const writes = audit.writes(OPERATOR_USER).filter((w) => w.namespace === ns);
  expect(writes.filter((w) => w.resource === 'deployments')).toEqual([]);
  const escalatedCount = (es: typeof eventsBefore) => es.filter((e) => e.reason === 'Escalated').reduce((n, e) => n + (e.count ?? 1), 0);
  expect(escalatedCount(await events())).toBe(escalatedCount(eventsBefore));

  // 5. A named reviewer acknowledges level 2: back to level 0 and the declared size.
  await kubectl(['-n', ns, 'patch', 'clm', NAME, '--type=merge', '-p',
    JSON.stringify({ spec: { escalation: { acknowledgement: { reviewer: 'dr-lee', level: 2, note: 'input pipeline fixed; reviewed 400 cases' } } } })]);
  await eventually('level 0 and replicas restored', async () => {
    const x = await clm();
    return x.status?.escalation?.level === 0 && x.status.escalation.acknowledgedBy === 'dr-lee' && (await deploymentReplicas()) === 2;
  }, 30_000);
  await eventually('Serving again', async () => (await clm()).status?.phase === 'Serving', 30_000);
  expect((await events()).find((e) => e.reason === 'Acknowledged')?.message).toContain('acknowledged by dr-lee');
  // The automatic pause opened an incident; dr-lee's acknowledgement closed it, by name.
  expect((await clm()).status?.escalation?.incidents).toEqual([expect.objectContaining({
    level: 2, reason: expect.stringContaining('significant drift'), closedBy: 'dr-lee', closeNote: 'input pipeline fixed; reviewed 400 cases' })]);
  expect((await events()).find((e) => e.reason === 'IncidentClosed')?.message).toMatch(/^incident sepsis-\d{8}-\d{6} closed by dr-lee: input pipeline fixed/);

  // 6. A patient-safety event: level 3 at once, Shutdown, an incident record.
  await kubectl(['-n', ns, 'annotate', 'clm', NAME, 'clinops.dev/safety-event=INC-2041: sepsis alert missed in a deteriorating patient']);
  c = await eventually('level 3 and ShutDown', async () => {
    const x = await clm();
    return x.status?.escalation?.level === 3 && x.status.phase === 'ShutDown' ? x : undefined;
  }, 20_000);
  expect(c.status?.escalation?.incident).toMatchObject({ reason: expect.stringContaining('INC-2041'), modelVersion: '1.0.0' });
  await eventually('Deployment at 0 replicas', async () => (await deploymentReplicas()) === 0);
  const incident = (await events()).find((e) => e.reason === 'IncidentOpened' && e.message.includes(c.status!.escalation!.incident!.id));
  expect(incident?.message).toContain('shut down: patient-safety event INC-2041');
  // Leaving level 3 needs a new model version: an acknowledgement with the same sha256 is refused.
  await kubectl(['-n', ns, 'patch', 'clm', NAME, '--type=merge', '-p',
    JSON.stringify({ spec: { escalation: { acknowledgement: { reviewer: 'dr-lee', level: 3, note: 'reviewed' } } } })]);
  await eventually('the acknowledgement refused', async () =>
    (await events()).find((e) => e.reason === 'AcknowledgementRefused')?.message.includes('new model version'));
  expect((await clm()).status?.escalation?.level).toBe(3);
  expect(c.status?.escalation?.history?.map((h) => [h.from, h.to])).toEqual([[0, 1], [1, 2], [2, 0], [0, 3]]);
}

it('ground truth reaching either replica is joined, a performance dip pauses the model, and the retraining webhook hears of it once', async () => {
  const a = await serve({ model: 'mlp' });
  const b = await serve({ model: 'mlp' });
  const name = 'sepsis-perf';
  // The team that retrains the model: an HTTPS receiver (its certificate from the cluster's CA, which the
  // operator is told to trust) on loopback, which an operator run outside the cluster for tests may reach;
  // it refuses the first attempt.
  const ca = /certificate-authority: (.+)/.exec(readFileSync(adminKubeconfig(), 'utf8'))![1]!.trim();
  const pair = await servingCert(dirname(ca), `retrain-receiver-${process.pid}`, ['127.0.0.1']);
  const received: Array<{ auth?: string; type?: string; event: { id: string; type: string; data: Record<string, any> } }> = []; // eslint-disable-line @typescript-eslint/no-explicit-any
  const receiver = createServer({ cert: readFileSync(pair.cert), key: readFileSync(pair.key) }, (req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      received.push({ auth: req.headers.authorization, type: req.headers['content-type'], event: JSON.parse(body) });
      res.writeHead(received.length === 1 ? 503 : 202).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
  const hook = `https://127.0.0.1:${(receiver.address() as AddressInfo).port}/retrain`;
  let op: Operator | undefined;
  try {
    const perfNs = await newNamespace('perf');
    await createModelsClaim(perfNs);
    await kubectl(['-n', perfNs, 'create', 'secret', 'generic', 'retrain-token', '--from-literal=token=team-token-1234']);
    // The Secret opts in to being read as a notification token.
    await kubectl(['-n', perfNs, 'label', 'secret', 'retrain-token', 'clinops.dev/notify-token=true']);
    op = await startOperator({ modelEndpoint: [`${perfNs}/${name}=${a.url}`, `${perfNs}/${name}=${b.url}`], identity: 'perf-1',
      notifyAllowLoopback: true, notifyCaFile: ca });
    await kubectl(['apply', '--server-side', '-f', '-'], JSON.stringify(model(perfNs, name, {
      model: { uri: `pvc://models/${name}/model.onnx`, sha256: 'a'.repeat(64), version: '1.0.0', labels: ['No sepsis', 'Sepsis'] },
      serving: { replicas: 2, gpu: { count: 0 } },
      monitoring: { interval: '10s', performance: { minLabels: 50, baseline: { sensitivity: 0.85, specificity: 0.8 } } },
      escalation: { consecutiveBreaches: 1 },
      governance: { notify: { url: hook, tokenSecretRef: { name: 'retrain-token', key: 'token' } } },
      modelCard: { intendedUse: 'ICU early warning', outOfScope: 'children', limitations: 'one site', trainingData: '2019–2023 admissions',
        performance: 'sensitivity 0.85, specificity 0.8', owner: 'ICU AI team', contact: 'icu-ai@example.org' },
    })));
    const get = () => getJson<ClinicalModel>(['-n', perfNs, 'get', 'clm', name]);
    await eventually('Serving', async () => (await get()).status?.phase === 'Serving', 60_000);
    // 50 predictions on each replica and 10 more nobody labels; clinicians report the opposite of each of
    // the 100, every label to the replica that did not make the prediction (as a Service would send it).
    const predict = async (s: Served, seed: number, n: number) => {
      const res = await fetch(`${s.url}/v1/models/sepsis/predict`, {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ instances: inputs(seed, n) }),
      });
      return ((await res.json()) as { predictions: Array<{ id: string; label: string }> }).predictions;
    };
    const onA = await predict(a, 505, 50);
    const onB = await predict(b, 606, 50);
    const unlabelled = (await predict(a, 707, 10)).map((p) => p.id);
    for (const [p, to] of [...onA.map((p) => [p, b] as const), ...onB.map((p) => [p, a] as const)]) {
      const r = await fetch(`${to.url}/v1/feedback`, {
        method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ predictionId: p.id, label: p.label === 'Sepsis' ? 'No sepsis' : 'Sepsis' }),
      });
      expect(r.status).toBe(202);
    }
    const c = await eventually('level 2 from the dip', async () => {
      const x = await get();
      return x.status?.escalation?.level === 2 && x.status.phase === 'Paused' ? x : undefined;
    }, 40_000);
    expect(c.status?.drift?.performance).toMatchObject({ labelled: 100, sensitivity: 0, specificity: 0, dip: 1, awaitingLabels: 10, unmatchedLabels: 0 });
    expect(c.status?.escalation?.history?.[0]).toMatchObject({ from: 0, to: 2, dip: 1 });
    const evs = await getJson(['-n', perfNs, 'get', 'events', '--field-selector', `involvedObject.name=${name},reason=PerformanceDip`]);
    expect(evs.items[0]?.message).toContain('performance dip 100.0%: sensitivity 0 (baseline 0.85), specificity 0 (baseline 0.8) over the last 100 labelled predictions');
    // The joined predictions are kept in the cluster, not in the operator: ids, scores and labels, no input.
    const secret = await getJson(['-n', perfNs, 'get', 'secret', `${name}-feedback`]);
    const stored = JSON.parse(gunzipSync(Buffer.from(secret.data['store.json.gz'], 'base64')).toString('utf8'));
    expect(stored.predictions).toHaveLength(110);
    expect(stored.predictions.filter((p: unknown[]) => p[5] !== -1)).toHaveLength(100);

    // The webhook: refused once (503), then delivered after the backoff; one event, the same id both times.
    const n = await eventually('the CloudEvent delivered', async () => {
      const x = (await get()).status?.notification;
      return x?.deliveredAt ? x : undefined;
    }, 40_000);
    expect(n).toMatchObject({ level: 2, attempts: 2 });
    expect(n.lastError).toBeUndefined();
    expect(received).toHaveLength(2);
    expect(received[1]!.event.id).toBe(received[0]!.event.id);
    expect(received[1]).toMatchObject({ auth: 'Bearer team-token-1234', type: 'application/cloudevents+json; charset=utf-8' });
    const e = received[1]!.event;
    expect(e).toMatchObject({ specversion: '1.0', type: 'dev.clinops.model.escalated', id: n.id, subject: `${perfNs}/${name}` });
    expect(e.data).toMatchObject({ model: { name, version: '1.0.0', sha256: 'a'.repeat(64) }, level: 2, previousLevel: 0,
      performance: { dip: 1, labelled: 100 }, baseline: { sensitivity: 0.85, specificity: 0.8 } });
    expect([...e.data.relabel].sort()).toEqual([...unlabelled].sort());
    // No input value anywhere in it.
    const body = JSON.stringify(e);
    for (const x of inputs(707, 10).flat().filter((v) => String(v).length >= 8)) expect(body).not.toContain(String(x));
    const sent = await getJson(['-n', perfNs, 'get', 'events', '--field-selector', `involvedObject.name=${name}`]);
    expect(sent.items.map((x: { reason: string }) => x.reason)).toEqual(expect.arrayContaining(['NotificationFailed', 'NotificationSent']));
    // Sent once: later checks and passes send nothing more.
    await new Promise((r) => setTimeout(r, 12_000));
    expect(received).toHaveLength(2);
  } finally {
    await op?.stop();
    await a.stop();
    await b.stop();
    receiver.close();
  }
});
