// State is observed, not remembered: a restarted operator finds everything as it should be and
// writes nothing, counted in the API server's own audit log.
import { jest } from '@jest/globals';
import { OPERATOR_USER } from '../../hack/cluster/install.js';
import { auditLog, createModelsClaim, deleteNamespaces, eventually, getJson, kubectl, model, newNamespace, startOperator } from './support.js';

jest.setTimeout(120_000);
afterAll(() => deleteNamespaces());

it('a restarted operator makes zero writes for unchanged ClinicalModels', async () => {
  const ns = await newNamespace('restart');
  await createModelsClaim(ns);
  const names = ['a', 'b', 'c', 'd', 'e'];
  for (const n of names) await kubectl(['apply', '-f', '-'], JSON.stringify(model(ns, n, { serving: { replicas: 1, gpu: { count: 1 } } })));

  const first = await startOperator({ identity: 'restart-1' });
  await eventually('all Serving', async () => {
    const list = await getJson(['-n', ns, 'get', 'clm']);
    return list.items.every((c: { status?: { phase?: string } }) => c.status?.phase === 'Serving');
  }, 60_000);
  // Let any trailing event settle, then stop.
  await new Promise((r) => setTimeout(r, 2000));
  await first.stop();
  const before = await getJson(['-n', ns, 'get', 'clm']);

  const audit = auditLog();
  audit.mark();
  const second = await startOperator({ identity: 'restart-2' });
  try {
    await eventually('the new operator to lead and reconcile every model', async () => {
      const total = await second.metrics.reconcileTotal.get();
      const passes = total.values.reduce((n, v) => n + v.value, 0);
      return second.isLeader && passes >= names.length;
    });
    await new Promise((r) => setTimeout(r, 2000));
    // Other test files' leftovers may be reconciled too; this namespace is the one under test.
    const writes = audit.writes(OPERATOR_USER).filter((w) => w.namespace === ns);
    if (writes.length > 0) {
      // Say what changed, to tell an operator bug from a cluster that moved underneath.
      const after = await getJson(['-n', ns, 'get', 'clm']);
      const pods = await kubectl(['-n', ns, 'get', 'pods', '-o', 'wide']);
      throw new Error(`writes after restart: ${JSON.stringify(writes.map((w) => `${w.verb} ${w.resource}/${w.subresource ?? ''} ${w.name}`))}\n` +
        `status before: ${JSON.stringify(before.items.map((c: { status: unknown }) => c.status))}\n` +
        `status after: ${JSON.stringify(after.items.map((c: { status: unknown }) => c.status))}\n${pods}`);
    }
    expect(writes).toEqual([]);
  } finally {
    await second.stop();
  }
});
