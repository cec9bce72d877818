// The operator's side of governance on the real control plane, with the chart's policies bound to this
// namespace and an in-process operator running as its own ServiceAccount (KWOK nodes: what the API
// server believes). Each bypass is tried as the model editor (personas.ts) would:
//   a version shut down at level 3, re-applied under a new name: refused at admission, nothing scheduled;
//     one already declared by another model stops serving there too (the operator's second line);
//   an escalation record made in advance, unlabelled, with a far cooldown: the escalation goes ahead,
//     the stranger's ConfigMap is named in a RecordConflict condition, never adopted or changed;
//   a monitoring-key Secret made in advance: refused, named in status, nothing deployed, never deleted;
//   a Job with the acceptance Job's old, predictable name: never believed; the candidate stays a candidate;
//   the retraining webhook: a token Secret without the opt-in label is never read (the audit log shows
//     only metadata reads), https://169.254.169.254 is refused, and an http URL fails the schema.
import { jest } from '@jest/globals';
import type { ClinicalModel } from '../../operator/api/types.js';
import type { Operator } from '../../operator/operator.js';
import { personas, type Personas } from './personas.js';
import { auditLog, deleteNamespaces, eventually, getJson, kubectl, model, newNamespace, operatorKubeconfig, startOperator } from './support.js';

jest.setTimeout(180_000);
const CARD = { intendedUse: 'ICU early warning', outOfScope: 'children', limitations: 'one site', trainingData: '2019–2023',
  performance: 'AUROC 0.87', owner: 'critical care informatics', contact: 'icu-ai@hospital.example' };

let ns: string;
let people: Personas;
let operator: Operator | undefined;
const clm = (name: string) => getJson<ClinicalModel>(['-n', ns, 'get', 'clm', name]);
const exists = (kind: string, name: string) => kubectl(['-n', ns, 'get', kind, name, '-o', 'name']).then(() => true, () => false);
const condition = (c: ClinicalModel, type: string) => c.status?.conditions?.find((x) => x.type === type);
const spec = (sha: string, extra: Partial<ClinicalModel['spec']> = {}) => ({
  model: { uri: 'pvc://models/m/model.onnx', sha256: sha, version: '1.0.0', labels: ['No sepsis', 'Sepsis'] },
  serving: { replicas: 1, gpu: { count: 0 } },
  ...extra,
});

beforeAll(async () => {
  ns = await newNamespace('governance');
  people = await personas(ns);
  operator = await startOperator({ identity: 'governance-1' });
});

afterAll(async () => {
  await operator?.stop();
  await people.remove();
  await deleteNamespaces();
});

it('revokes a version shut down at level 3: refused under any name at admission, and not served by a model that already declared it', async () => {
  const SHA = 'd'.repeat(64);
  // Two models of the same version; the second declared before anything happened.
  await kubectl(['apply', '--server-side', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List',
    items: [model(ns, 'unsafe', spec(SHA)), model(ns, 'twin', spec(SHA))] }));
  await eventually('both deployed', async () => (await exists('deployment', 'unsafe')) && (await exists('deployment', 'twin')));
  // A reported harm: level 3 at once.
  await kubectl(['-n', ns, 'annotate', 'clm', 'unsafe', 'clinops.dev/safety-event=INC-7: missed deterioration']);
  await eventually('ShutDown', async () => (await clm('unsafe')).status?.phase === 'ShutDown', 30_000);
  const record = await eventually('the revocation recorded', () => getJson(['-n', ns, 'get', 'revokedversion', SHA]).catch(() => undefined));
  expect(record.spec).toMatchObject({ sha256: SHA, model: 'unsafe', version: '1.0.0', reason: expect.stringContaining('INC-7') });

  // The editor applies the same file under a new name: the API server refuses it, so nothing is scheduled.
  const again = JSON.stringify(model(ns, 'unsafe-again', spec(SHA)));
  await eventually('the revocation in force', async () => !(await people.as('ml-eng', ['apply', '--dry-run=server', '-f', '-'], again)).ok);
  const refused = (await people.as('ml-eng', ['apply', '-f', '-'], again)).out;
  expect(refused).toContain(people.denied('revoked-versions') + `spec.model.sha256 ${SHA} was shut down at level 3 (model unsafe, version 1.0.0) and is revoked`);
  expect(await exists('clm', 'unsafe-again')).toBe(false);
  expect(await exists('deployment', 'unsafe-again')).toBe(false);

  // The twin declared it before: the operator serves nothing there, and says why.
  const twin = await eventually('the twin revoked', async () => {
    const c = await clm('twin');
    return condition(c, 'Ready')?.reason === 'Revoked' ? c : undefined;
  });
  expect(twin.status?.phase).toBe('ShutDown');
  expect(condition(twin, 'Ready')?.message).toContain(`sha256 ${SHA.slice(0, 12)}… (version 1.0.0) was shut down at level 3 as model unsafe`);
  await eventually('the twin at 0 replicas', async () => (await getJson(['-n', ns, 'get', 'deployment', 'twin'])).spec.replicas === 0);
  const events = await getJson(['-n', ns, 'get', 'events', '--field-selector', 'involvedObject.name=twin,reason=Revoked']);
  expect(events.items).toHaveLength(1);

  // A governance administrator lifts it with a reason: the twin serves again, and says who lifted it.
  expect(await people.as('gov-admin', ['-n', ns, 'patch', 'revokedversion', SHA, '--type=merge', '-p',
    JSON.stringify({ spec: { lift: { by: 'gov-admin', reason: 'INC-7 was a monitor fault, not the model' } } })])).toMatchObject({ ok: true });
  await eventually('the twin serving again', async () => (await getJson(['-n', ns, 'get', 'deployment', 'twin'])).spec.replicas === 1, 40_000);
  const lifted = await getJson(['-n', ns, 'get', 'events', '--field-selector', 'involvedObject.name=twin,reason=RevocationLifted']);
  expect(lifted.items[0]?.message).toContain('was lifted by gov-admin: INC-7 was a monitor fault, not the model');
});

it('escalates even past an escalation record someone made in advance, and never adopts it', async () => {
  const far = '2099-01-01T00:00:00Z';
  const squat = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'esc-escalation-record', namespace: ns },
    data: { 'record.json': JSON.stringify({ model: 'esc', uid: 'x', modelVersion: '1.0.0', sha256: 'e'.repeat(64), writtenAt: far, escalation: { level: 0, cooldownUntil: far } }) } };
  expect(await people.as('ml-eng', ['apply', '-f', '-'], JSON.stringify(squat))).toMatchObject({ ok: true });
  const before = await getJson(['-n', ns, 'get', 'configmap', 'esc-escalation-record']);
  await kubectl(['apply', '--server-side', '-f', '-'], JSON.stringify(model(ns, 'esc', spec('e'.repeat(64)))));
  await eventually('deployed', () => exists('deployment', 'esc'));
  await kubectl(['-n', ns, 'annotate', 'clm', 'esc', 'clinops.dev/safety-event=INC-8: wrong patient flagged']);
  const c = await eventually('level 3 and the conflict named', async () => {
    const x = await clm('esc');
    return x.status?.escalation?.level === 3 && condition(x, 'RecordConflict') ? x : undefined;
  }, 30_000);
  expect(condition(c, 'RecordConflict')).toMatchObject({ status: 'True', reason: 'NotMadeByClinops',
    message: expect.stringContaining('ConfigMap esc-escalation-record exists and was not made by clinops for this model') });
  const after = await getJson(['-n', ns, 'get', 'configmap', 'esc-escalation-record']);
  expect(after.metadata.resourceVersion).toBe(before.metadata.resourceVersion);
  expect(after.metadata.labels).toBeUndefined();
});

it('refuses a monitoring-key Secret someone else made: named in status, nothing deployed, and left alone', async () => {
  expect(await people.as('ml-eng', ['-n', ns, 'create', 'secret', 'generic', 'squat-monitoring', '--from-literal=key=known-to-the-editor-0123456789'])).toMatchObject({ ok: true });
  await kubectl(['apply', '--server-side', '-f', '-'], JSON.stringify(model(ns, 'squat', spec('f'.repeat(64)))));
  const c = await eventually('refused', async () => {
    const x = await clm('squat');
    return condition(x, 'Ready')?.reason === 'ApplyFailed' ? x : undefined;
  });
  expect(condition(c, 'Ready')?.message).toContain('Secret squat-monitoring exists and was not made by clinops for this model');
  expect(await exists('deployment', 'squat')).toBe(false);
  await kubectl(['-n', ns, 'delete', 'clm', 'squat']);
  expect(await exists('secret', 'squat-monitoring')).toBe(true);
});

it('believes no acceptance Job it did not make: one with the old predictable name leaves the candidate a candidate', async () => {
  const SHA = '1'.repeat(64);
  // The editor makes a Job with the name the acceptance Job used to have, marked as the operator's, that "passed".
  const fake = { apiVersion: 'batch/v1', kind: 'Job',
    metadata: { name: `gated-accept-${SHA.slice(0, 10)}`, namespace: ns, labels: { 'clinops.dev/acceptance-of': 'gated' }, annotations: { 'clinops.dev/sha256': SHA } },
    spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'accept', image: 'busybox', command: ['true'] }] } } } };
  expect(await people.as('ml-eng', ['apply', '-f', '-'], JSON.stringify(fake))).toMatchObject({ ok: true });
  await kubectl(['-n', ns, 'create', 'configmap', 'holdout', '--from-literal=holdout.json={"instances":[[0]],"labels":["Sepsis"]}']);
  await kubectl(['apply', '--server-side', '-f', '-'], JSON.stringify(model(ns, 'gated', spec(SHA, {
    acceptance: { holdout: { configMapRef: { name: 'holdout' } } } }))));
  const c = await eventually('its own Job recorded', async () => {
    const x = await clm('gated');
    return x.status?.acceptance?.candidate?.jobUid ? x : undefined;
  });
  const job = await getJson(['-n', ns, 'get', 'job', c.status!.acceptance!.candidate!.job!]);
  expect(job.metadata.uid).toBe(c.status?.acceptance?.candidate?.jobUid);
  expect(job.metadata.name).not.toBe(fake.metadata.name);
  expect(job.spec.template.spec.containers[0].image).toBe('clinops/inference-server:test'); // the operator's acceptance image
  // Its pod runs on a fake node and never reports a verdict: the candidate stays Running, nothing serves.
  await new Promise((r) => setTimeout(r, 3000));
  const later = await clm('gated');
  expect(later.status?.phase).toBe('Accepting');
  expect(later.status?.acceptance?.candidate?.state).toBe('Running');
  expect(later.status?.acceptance?.accepted).toBeUndefined();
  expect((await getJson(['-n', ns, 'get', 'deployment', 'gated'])).spec.replicas).toBe(0);
});

it('sends the retraining signal only with an opted-in token, and never to a refused address', async () => {
  // An http URL fails the schema; https to the cloud metadata address is refused by the operator.
  const notifyModel = (name: string, url: string, secret: string) => model(ns, name, spec('2'.repeat(64), {
    governance: { notify: { url, tokenSecretRef: { name: secret, key: 'token' } } }, modelCard: CARD }));
  const http = await people.as('ml-eng', ['apply', '-f', '-'], JSON.stringify(notifyModel('hook-http', 'http://collector.example.org/hook', 'x')));
  expect(http.out).toContain('the receiver must be https (http only to an in-cluster Service name, HOST.NAMESPACE.svc)');
  await kubectl(['-n', ns, 'create', 'secret', 'generic', 'db-password', '--from-literal=token=not-for-the-operator']);
  await kubectl(['-n', ns, 'create', 'secret', 'generic', 'hook-token', '--from-literal=token=team-token']);
  await kubectl(['-n', ns, 'label', 'secret', 'hook-token', 'clinops.dev/notify-token=true']);
  const audit = auditLog();
  audit.mark();
  await kubectl(['apply', '--server-side', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [
    notifyModel('hook-unlabelled', 'https://retrain.hospital.example/hook', 'db-password'),
    notifyModel('hook-metadata', 'https://169.254.169.254/latest/meta-data', 'hook-token')] }));
  // A drift escalation in each model's record, as the operator writes it (the test acts as the operator).
  for (const name of ['hook-unlabelled', 'hook-metadata']) {
    await eventually(`${name} deployed`, () => exists('deployment', name));
    const at = new Date().toISOString();
    expect(await people.as(operatorKubeconfig(), ['-n', ns, 'patch', 'clm', name, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: {
      escalation: { level: 1, since: at, reason: 'moderate drift', history: [{ time: at, from: 0, to: 1, reason: 'moderate drift', psi: 0.15 }] } } })])).toMatchObject({ ok: true });
  }
  const unlabelled = await eventually('the unlabelled token refused', async () => (await clm('hook-unlabelled')).status?.notification?.lastError);
  expect(unlabelled).toBe('token Secret db-password lacks the label clinops.dev/notify-token=true');
  const metadata = await eventually('the metadata address refused', async () => (await clm('hook-metadata')).status?.notification?.lastError);
  expect(metadata).toBe('address refused');
  // The Secret that did not opt in was only ever read as metadata; the one that did, in full.
  const reads = audit.secretReads(ns, 'db-password');
  expect(reads.length).toBeGreaterThan(0);
  expect(new Set(reads)).toEqual(new Set(['PartialObjectMetadata']));
  expect(audit.secretReads(ns, 'hook-token')).toContain('Secret');
});
