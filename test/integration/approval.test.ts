// The go/no-go sign-off on the real control plane (KWOK nodes: what the API server believes): a model
// that requires approval serves nothing until every checklist item is signed for its sha256, the
// go/no-go decision by two different people (phase
// AwaitingApproval, the Deployment at 0 replicas); the last signature serves it, with an Approved Event
// and the record in status; an update waits for its own signatures while the approved version keeps
// serving.
import { jest } from '@jest/globals';
import type { ClinicalModel, Signature } from '../../operator/api/types.js';
import type { Operator } from '../../operator/operator.js';
import { createModelsClaim, deleteNamespaces, eventually, getJson, kubectl, model, newNamespace, startOperator } from './support.js';

jest.setTimeout(120_000);

let operator: Operator | undefined;
afterAll(async () => {
  await operator?.stop();
  await deleteNamespaces();
});

it('serves a version only once every go/no-go item is signed for its sha256; an update waits for its own while the approved one serves', async () => {
  const ns = await newNamespace('approval');
  await createModelsClaim(ns);
  operator = await startOperator({ identity: 'approval-1' });
  const V1 = 'a'.repeat(64);
  const V2 = 'b'.repeat(64);
  const items = ['performance-validation', 'go-no-go'];
  const apply = (sha: string, version: string, signatures: Signature[]) => kubectl(['apply', '--server-side', '-f', '-'], JSON.stringify(model(ns, 'sepsis', {
    model: { uri: 'pvc://models/sepsis/model.onnx', sha256: sha, version, labels: ['No sepsis', 'Sepsis'] },
    serving: { replicas: 1, gpu: { count: 0 } },
    approval: { items, signatures },
  })));
  const clm = () => getJson<ClinicalModel>(['-n', ns, 'get', 'clm', 'sepsis']);
  const deployment = () => getJson(['-n', ns, 'get', 'deployment', 'sepsis']);
  const shaServed = async () => ((await deployment()).spec.template.spec.containers[0].env as Array<{ name: string; value: string }>)
    .find((e) => e.name === 'CLINOPS_MODEL_SHA256')!.value;

  // One item signed, and the other signed for another version: nothing serves.
  await apply(V1, '1.0.0', [{ item: 'performance-validation', signedBy: 'dr-lee', sha256: V1 }, { item: 'go-no-go', signedBy: 'cmo', sha256: V2 }]);
  const waiting = await eventually('AwaitingApproval', async () => {
    const c = await clm();
    return c.status?.phase === 'AwaitingApproval' ? c : undefined;
  });
  expect(waiting.status?.approval).toMatchObject({ sha256: V1, missing: ['go-no-go'] });
  expect(waiting.status?.conditions?.find((c) => c.type === 'Approved')).toMatchObject({ status: 'False', reason: 'AwaitingSignatures' });
  expect((await deployment()).spec.replicas).toBe(0);

  // The last signature: it serves, the sign-off is recorded and announced.
  // go-no-go signed by one person is not enough: the decision takes two (spec.approval.distinctSigners, default 2).
  await apply(V1, '1.0.0', [{ item: 'performance-validation', signedBy: 'dr-lee', sha256: V1 }, { item: 'go-no-go', signedBy: 'cmo', sha256: V1, note: 'go' }]);
  const one = await eventually('one go/no-go signer seen', async () => {
    const c = await clm();
    return c.status?.approval?.signatures?.some((x) => x.signedBy === 'cmo' && x.sha256 === V1) ? c : undefined;
  });
  expect(one.status?.phase).toBe('AwaitingApproval');
  expect(one.status?.conditions?.find((c) => c.type === 'Approved')?.message).toContain('go-no-go signed by cmo; needs 2 different people');
  await apply(V1, '1.0.0', [{ item: 'performance-validation', signedBy: 'dr-lee', sha256: V1 }, { item: 'go-no-go', signedBy: 'cmo', sha256: V1, note: 'go' },
    { item: 'go-no-go', signedBy: 'dr-park', sha256: V1, note: 'go' }]);
  const serving = await eventually('Serving', async () => {
    const c = await clm();
    return c.status?.phase === 'Serving' ? c : undefined;
  }, 60_000);
  expect(serving.status?.approval).toMatchObject({ sha256: V1, missing: [], approvedAt: expect.any(String) });
  expect(serving.status?.approval?.records).toEqual([expect.objectContaining({ sha256: V1, version: '1.0.0' })]);
  expect(serving.status?.acceptance?.accepted).toMatchObject({ sha256: V1, version: '1.0.0' });
  const events = await getJson<{ items: Array<{ reason: string; message: string }> }>(['-n', ns, 'get', 'events', '--field-selector', 'involvedObject.name=sepsis']);
  expect(events.items.find((e) => e.reason === 'Approved')?.message).toBe('version 1.0.0 approved: performance-validation by dr-lee, go-no-go by cmo, go-no-go by dr-park');

  // An update: its own signatures are missing, so version 1.0.0 keeps serving.
  await apply(V2, '2.0.0', [{ item: 'performance-validation', signedBy: 'dr-lee', sha256: V1 }, { item: 'go-no-go', signedBy: 'cmo', sha256: V1 }]);
  const update = await eventually('the update waiting', async () => {
    const c = await clm();
    return c.status?.approval?.sha256 === V2 ? c : undefined;
  });
  expect(update.status?.phase).toBe('Serving');
  expect(update.status?.approval?.missing).toEqual(items);
  expect(update.status?.conditions?.find((c) => c.type === 'Approved')?.message).toContain('version 1.0.0 keeps serving');
  expect(await shaServed()).toBe(V1);
  expect(update.status?.approval?.records).toHaveLength(1);
});
