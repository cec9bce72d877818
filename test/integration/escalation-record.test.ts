// Escalation that survives deletion, on the real control plane: a model shut down after a safety
// event is deleted and applied again (as an Argo CD replace or a restore without status would): it
// comes back shut down, says where the level came from, and runs no replica. The record is a ConfigMap
// with no owner; an administrator who deletes it retires the escalation for good, and lifts the
// revocation of the version shut down (a RevokedVersion) for it to serve again.
import { jest } from '@jest/globals';
import type { ClinicalModel } from '../../operator/api/types.js';
import type { Operator } from '../../operator/operator.js';
import { createModelsClaim, deleteNamespaces, eventually, getJson, kubectl, model, newNamespace, startOperator } from './support.js';

jest.setTimeout(180_000);

let operator: Operator | undefined;
afterAll(async () => {
  await operator?.stop();
  await deleteNamespaces();
});

it('a deleted and re-applied shut-down model stays shut down; deleting its record retires it', async () => {
  const ns = await newNamespace('record');
  await createModelsClaim(ns);
  operator = await startOperator({ identity: 'record-1' });
  const manifest = JSON.stringify(model(ns, 'sepsis', { serving: { replicas: 1, gpu: { count: 0 } } }));
  const clm = () => getJson<ClinicalModel>(['-n', ns, 'get', 'clm', 'sepsis']);
  await kubectl(['apply', '--server-side', '-f', '-'], manifest);
  await eventually('Serving', async () => (await clm()).status?.phase === 'Serving', 60_000);
  await kubectl(['-n', ns, 'annotate', 'clm', 'sepsis', 'clinops.dev/safety-event=INC-77: wrong patient scored']);
  const shut = await eventually('ShutDown', async () => {
    const c = await clm();
    return c.status?.phase === 'ShutDown' ? c : undefined;
  }, 30_000);

  // The record: a ConfigMap nobody owns, holding the level and the incident.
  const cm = await getJson(['-n', ns, 'get', 'configmap', 'sepsis-escalation-record']);
  expect(cm.metadata.ownerReferences).toBeUndefined();
  const record = JSON.parse(cm.data['record.json']);
  expect(record).toMatchObject({ model: 'sepsis', uid: shut.metadata.uid, sha256: 'a'.repeat(64), escalation: { level: 3 } });
  expect(record.escalation.incident.id).toBe(shut.status!.escalation!.incident!.id);

  // Deleted and applied again: a new object, no annotation, no status — and still shut down.
  await kubectl(['-n', ns, 'delete', 'clm', 'sepsis', '--wait=true']);
  await kubectl(['apply', '--server-side', '-f', '-'], manifest);
  const back = await eventually('restored at level 3', async () => {
    const c = await clm();
    return c.metadata.uid !== shut.metadata.uid && c.status?.escalation?.level === 3 && c.status.phase === 'ShutDown' ? c : undefined;
  }, 30_000);
  expect(back.status!.escalation!.incident!.id).toBe(shut.status!.escalation!.incident!.id);
  expect(back.status!.escalation!.shutdownSha256).toBe('a'.repeat(64));
  const events = await getJson<{ items: Array<{ reason: string; message: string; involvedObject: { uid: string } }> }>(
    ['-n', ns, 'get', 'events', '--field-selector', 'involvedObject.name=sepsis,reason=EscalationRestored']);
  expect(events.items.find((e) => e.involvedObject.uid === back.metadata.uid)?.message).toMatch(
    /^level 3 restored from ConfigMap sepsis-escalation-record \(written .+ for 1\.0\.0, the same model \(sha256 unchanged\)\): leaving level 3 needs a new model version/);
  await eventually('the Deployment at 0 replicas', async () => (await getJson(['-n', ns, 'get', 'deployment', 'sepsis'])).spec?.replicas === 0);

  // An administrator retires the record: the next object of that name starts afresh at level 0 — but its
  // version stays revoked (a RevokedVersion, not the record): nothing serves until that is lifted too.
  await kubectl(['-n', ns, 'delete', 'configmap', 'sepsis-escalation-record']);
  await kubectl(['-n', ns, 'delete', 'clm', 'sepsis', '--wait=true']);
  await kubectl(['apply', '--server-side', '-f', '-'], manifest);
  const revoked = await eventually('level 0, the version revoked', async () => {
    const c = await clm();
    const ready = c.status?.conditions?.find((x) => x.type === 'Ready');
    return c.metadata.uid !== back.metadata.uid && (c.status?.escalation?.level ?? 0) === 0 && ready?.reason === 'Revoked' ? c : undefined;
  }, 60_000);
  expect(revoked.status?.phase).toBe('ShutDown');
  await kubectl(['-n', ns, 'patch', 'revokedversion', 'a'.repeat(64), '--type=merge', '-p',
    JSON.stringify({ spec: { lift: { by: 'clinops-admin', reason: 'INC-77 reviewed: scoring error upstream, fixed' } } })]);
  await eventually('Serving afresh', async () => {
    const c = await clm();
    return c.metadata.uid !== back.metadata.uid && c.status?.phase === 'Serving' && (c.status.escalation?.level ?? 0) === 0;
  }, 60_000);
});
