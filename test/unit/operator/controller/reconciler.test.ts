// The reconcile pass as a whole, through ReconcilerDeps: fake caches and a fake API client that keeps
// objects in a map and logs every call in order. (The real API server is in test/integration.)
import { Registry } from 'prom-client';
import type { ClinicalModel } from '../../../../operator/api/types.js';
import { Reconciler, type ReconcilerDeps } from '../../../../operator/controller/reconciler.js';
import { RecordConflictError } from '../../../../operator/desired/records.js';
import { DriftGatherer } from '../../../../operator/gathering/gatherer.js';
import { ApiError, type ResourceRef } from '../../../../operator/kube/client.js';
import { DriftMetrics } from '../../../../operator/observability/metrics.js';
import { ProviderReports } from '../../../../operator/controller/providers.js';
import { createLogger } from '../../../../contract/log.js';
import { clinicalModel } from '../fixtures.js';

type Any = any; // eslint-disable-line @typescript-eslint/no-explicit-any
const NOW = Date.parse('2026-11-22T10:00:00Z');
const KEY = 'radiology/pneumonia-cxr';

/** A cluster of one namespace: objects by "plural/name", every call logged as "verb plural/name". */
function cluster(model: ClinicalModel) {
  const objects = new Map<string, Any>();
  const calls: string[] = [];
  const events: string[] = [];
  let rv = 10;
  const id = (ref: ResourceRef, name = ref.name) => `${ref.plural}/${name}`;
  const models = new Map<string, ClinicalModel>([[KEY, { ...model, metadata: { ...model.metadata, resourceVersion: String(rv) } }]]);
  const client: ReconcilerDeps['client'] = {
    get: async (ref: ResourceRef) => objects.get(id(ref)),
    getMetadata: async (ref: ResourceRef) => objects.get(id(ref)),
    list: async () => ({ items: [] }) as Any,
    create: async (ref: ResourceRef, body: Any) => {
      const name = body.metadata.name ?? `${body.metadata.generateName}x1`;
      if (objects.has(id(ref, name))) throw new ApiError('POST', id(ref, name), 409, 'AlreadyExists', 'exists');
      const made = { ...body, metadata: { ...body.metadata, name, uid: `uid-${name}`, resourceVersion: String(++rv) } };
      objects.set(id(ref, name), made);
      calls.push(`create ${id(ref, name)}`);
      return made;
    },
    update: async (ref: ResourceRef, body: Any) => { objects.set(id(ref), body); calls.push(`update ${id(ref)}`); return body; },
    apply: async (ref: ResourceRef, body: Any) => {
      const made = { ...body, metadata: { ...body.metadata, uid: `uid-${ref.name}`, resourceVersion: String(++rv) } };
      objects.set(id(ref), made);
      calls.push(`apply ${id(ref)}`);
      return made;
    },
    mergePatch: async (ref: ResourceRef, patch: Any) => {
      const cr = models.get(KEY)!;
      if (patch.metadata?.resourceVersion && patch.metadata.resourceVersion !== cr.metadata.resourceVersion) throw new ApiError('PATCH', id(ref), 409, 'Conflict', 'moved on');
      models.set(KEY, { ...cr, metadata: { ...cr.metadata, resourceVersion: String(++rv) }, status: mergeDeep(cr.status, patch.status) });
      calls.push(`patch ${id(ref)}/${ref.subresource}`);
      return models.get(KEY);
    },
    delete: async (ref: ResourceRef) => { calls.push(`delete ${id(ref)}`); return objects.delete(id(ref)); },
  } as Any;
  const deps: ReconcilerDeps = {
    client,
    caches: {
      model: (_ns, name) => models.get(`radiology/${name}`),
      revokedVersion: () => undefined,
      deployment: (_ns, name) => objects.get(`deployments/${name}`),
      service: (_ns, name) => objects.get(`services/${name}`),
      autoscaler: (_ns, name) => objects.get(`horizontalpodautoscalers/${name}`),
      pods: () => [],
      candidatePods: () => [],
    },
    settings: { serverImage: 'clinops/inference-server:test' },
    recorder: { record: async (_t, type, reason, message) => { events.push(`${type} ${reason}: ${message}`); } },
    log: createLogger('error'),
    clock: () => NOW,
    onWrite: () => {},
    gatherer: new DriftGatherer(client as Any),
    modelEndpoints: new Map(),
    driftMetrics: new DriftMetrics(new Registry()),
    providers: new ProviderReports(() => {}, () => NOW),
    random: () => 0,
  };
  return { deps, objects, calls, events, models, reconciler: new Reconciler(deps), setModel: (m: ClinicalModel) => models.set(KEY, m) };
}

function mergeDeep(a: Any, b: Any): Any {
  if (b === null) return undefined;
  if (typeof b !== 'object' || Array.isArray(b) || typeof a !== 'object' || a === null) return b;
  const out = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const merged = mergeDeep(a[k], v);
    if (merged === undefined) delete out[k];
    else out[k] = merged;
  }
  return out;
}

const model = (meta: Partial<ClinicalModel['metadata']> = {}) => clinicalModel({}, { creationTimestamp: '2026-11-22T09:59:00Z', ...meta });

describe('a reconcile pass', () => {
  it('makes a new model its key, Deployment and Service, says so once, and looks again at the next check', async () => {
    const c = cluster(model());
    const result = await c.reconciler.reconcile(KEY);
    expect(c.calls).toEqual(['create secrets/pneumonia-cxr-monitoring', 'apply deployments/pneumonia-cxr', 'apply services/pneumonia-cxr']);
    expect(c.events).toEqual(['Normal Created: Deployment pneumonia-cxr and Service pneumonia-cxr created']);
    // The children's watch queues the key again; status is written when they report.
    expect(result.requeueAfterMs).toBe(4 * 60_000);
  });

  it('then writes status once, and afterwards nothing at all', async () => {
    const c = cluster(model());
    await c.reconciler.reconcile(KEY);
    c.calls.length = 0;
    await c.reconciler.reconcile(KEY);
    expect(c.calls).toEqual(['patch clinicalmodels/pneumonia-cxr/status']);
    expect(c.models.get(KEY)?.status?.phase).toBeDefined();
    c.calls.length = 0;
    await c.reconciler.reconcile(KEY);
    expect(c.calls).toEqual([]);
  });

  it('records a safety event before it acts: the record, the revocation, status, then the Deployment at no replicas', async () => {
    const c = cluster(model());
    await c.reconciler.reconcile(KEY);
    await c.reconciler.reconcile(KEY);
    c.calls.length = 0;
    c.events.length = 0;
    const m = c.models.get(KEY)!;
    c.setModel({ ...m, metadata: { ...m.metadata, annotations: { 'clinops.dev/safety-event': 'INC-7: missed pneumothorax' } } });
    await c.reconciler.reconcile(KEY);
    expect(c.calls.slice(0, 4)).toEqual([
      'apply configmaps/pneumonia-cxr-escalation-record',
      `create revokedversions/${m.spec.model.sha256.toLowerCase()}`,
      'patch clinicalmodels/pneumonia-cxr/status',
      'apply deployments/pneumonia-cxr',
    ]);
    expect(c.objects.get('deployments/pneumonia-cxr').spec.replicas).toBe(0);
    expect(c.models.get(KEY)?.status?.escalation?.level).toBe(3);
    expect(c.events.map((e) => e.split(':')[0])).toEqual(['Warning Escalated', 'Warning IncidentOpened', 'Normal Updated']);
  });

  it('refuses a Secret in the monitoring key\'s place that it did not make: said in status and once as an Event', async () => {
    const c = cluster(model());
    c.objects.set('secrets/pneumonia-cxr-monitoring', { metadata: { name: 'pneumonia-cxr-monitoring', labels: {} }, data: { key: 'a'.repeat(40) } });
    await expect(c.reconciler.reconcile(KEY)).rejects.toBeInstanceOf(RecordConflictError);
    expect(c.calls).toEqual(['patch clinicalmodels/pneumonia-cxr/status']);
    expect(c.events).toEqual([expect.stringMatching(/^Warning RecordConflict: Secret pneumonia-cxr-monitoring/)]);
    expect(c.objects.has('deployments/pneumonia-cxr')).toBe(false);
  });

  it('forgets a model that is gone, and writes nothing', async () => {
    const c = cluster(model());
    await c.reconciler.reconcile(KEY);
    c.calls.length = 0;
    c.models.clear();
    expect(await c.reconciler.reconcile(KEY)).toEqual({});
    expect(c.calls).toEqual([]);
  });
});
