// Each phase of a reconcile pass, fed values: what it decides from an observed state and the model as
// the phases before it left it. No API server, no clock but the one given.
import { acceptanceJob } from '../../../../../operator/acceptance/gate.js';
import type { ClinicalModel } from '../../../../../operator/api/types.js';
import type { Observed, PassState } from '../../../../../operator/controller/pass.js';
import { ACCEPTANCE_POLL_MS, acceptancePhase } from '../../../../../operator/controller/phases/acceptance.js';
import { approvalPhase } from '../../../../../operator/controller/phases/approval.js';
import { childrenEvent, childrenPhase } from '../../../../../operator/controller/phases/children.js';
import { escalationPhase } from '../../../../../operator/controller/phases/escalation.js';
import { notificationPhase } from '../../../../../operator/controller/phases/notification.js';
import { restorePhase } from '../../../../../operator/controller/phases/restore.js';
import { reviewPhase } from '../../../../../operator/controller/phases/review.js';
import { reportPhase } from '../../../../../operator/controller/phases/report.js';
import { HOLD_RETRY_MS, integrationPhase } from '../../../../../operator/controller/phases/integration.js';
import { rolloutPhase } from '../../../../../operator/controller/phases/rollout.js';
import { candidateName } from '../../../../../operator/rollout/rollout.js';
import { PROTOCOL_CHECKLIST } from '../../../../../operator/serving/versions.js';
import { clinicalModel } from '../../fixtures.js';

type Any = any; // eslint-disable-line @typescript-eslint/no-explicit-any
const NOW = Date.parse('2026-11-22T10:00:00Z');
const SETTINGS = { serverImage: 'clinops/inference-server:test', acceptanceImage: 'clinops/inference-server@sha256:' + 'e'.repeat(64) };

function observed(cr: ClinicalModel, more: Partial<Observed> = {}): Observed {
  return { key: 'radiology/pneumonia-cxr', namespace: 'radiology', name: 'pneumonia-cxr', now: NOW, random: 0, cr, monitoringKey: 'k'.repeat(32), drift: {}, revocations: new Map(), ...more };
}
const start = (cr: ClinicalModel): PassState => ({ cr, escalated: false, candidate: 'none' });
const fresh = (overrides: Partial<ClinicalModel['spec']> = {}, meta: Partial<ClinicalModel['metadata']> = {}) =>
  clinicalModel(overrides, { creationTimestamp: '2026-11-22T09:59:00Z', ...meta });
const sha = fresh().spec.model.sha256.toLowerCase();

describe('restore', () => {
  it('starts a model without an escalation from the record an earlier object left, written to status before anything else', () => {
    const cr = fresh();
    const record = { sha256: sha, modelVersion: '3.0.0', writtenAt: '2026-11-20T08:00:00Z', escalation: { level: 2, phase: 'Paused' } } as Any;
    const out = restorePhase(observed(cr, { record: { found: record } }), start(cr));
    expect(out.record).toBe(true);
    expect(out.pass?.cr?.status?.escalation?.level).toBe(2);
    expect(out.events).toEqual([expect.objectContaining({ reason: 'EscalationRestored', message: expect.stringContaining('level 2 restored') })]);
    expect(out.actions).toEqual([{ do: 'recordLooked' }]);
  });

  it('starts at level 0 when the record holds nothing, and does not look again for the same object', () => {
    const cr = fresh();
    const empty = restorePhase(observed(cr, { record: { found: { sha256: sha, modelVersion: '3.0.0', writtenAt: 'x', escalation: { level: 0 } } as Any } }), start(cr));
    expect(empty).toEqual({ actions: [{ do: 'recordLooked' }] });
    expect(restorePhase(observed(cr, { record: {} }), start(cr))).toEqual({ actions: [{ do: 'recordLooked' }] });
    expect(restorePhase(observed(cr), start(cr))).toEqual({});
  });
});

describe('escalation', () => {
  it('with no check due changes nothing and looks again when the next one is due', () => {
    const cr = fresh();
    const out = escalationPhase(observed(cr), start(cr));
    expect(out.record).toBeUndefined();
    expect(out.before).toBeUndefined();
    expect(out.pass?.escalated).toBe(false);
    // Created a minute ago, checked every 5 minutes: due in 4.
    expect(out.requeueAfterMs).toBe(4 * 60_000);
    expect(out.actions).toEqual([{ do: 'driftMetrics', drift: undefined, level: 0 }]);
  });

  it('records a reported safety event (record, then status, then the Events) and shuts the version down', () => {
    const cr = fresh({}, { annotations: { 'clinops.dev/safety-event': 'INC-7: missed pneumothorax' } });
    const out = escalationPhase(observed(cr), start(cr));
    expect(out.before).toEqual([{ do: 'writeRecords', before: undefined, escalation: expect.objectContaining({ level: 3 }) }]);
    expect(out.record).toBe(true);
    expect(out.pass?.escalated).toBe(true);
    expect(out.pass?.cr?.status?.escalation).toMatchObject({ level: 3, shutdownSha256: sha });
    expect(out.events?.map((e) => e.reason)).toEqual(['Escalated', 'IncidentOpened']);
  });

  it('says a refused acknowledgement once per acknowledgement', () => {
    const cr = { ...fresh({ escalation: { acknowledgement: { reviewer: 'dr-lee', level: 2 } } as Any }), status: { escalation: { level: 1 } } } as ClinicalModel;
    const out = escalationPhase(observed(cr), start(cr));
    const refused = out.events?.find((e) => e.reason === 'AcknowledgementRefused');
    expect(refused?.once?.topic).toBe('acknowledgement');
    expect(refused?.once?.value).toContain('dr-lee');
  });
});

describe('notification', () => {
  const notifying = (): ClinicalModel => ({
    ...fresh({ governance: { notify: { url: 'https://mlops.example/hook' } } as Any }),
    // Raised to level 2 by a check (a PSI), so its retraining signal is owed.
    status: { escalation: { level: 2, history: [{ from: 0, to: 2, time: '2026-11-22T09:58:00Z', reason: 'drift', psi: 0.4 }] } },
  } as ClinicalModel);

  it('sends a due notification in a pass of its own and ends the pass', () => {
    const out = notificationPhase(observed(notifying()), start(notifying()));
    expect(out.actions).toEqual([{ do: 'notify', due: expect.objectContaining({ level: 2, now: true }) }]);
    expect(out.stop).toBe(true);
    expect(out.requeueAfterMs).toBe(1);
  });

  it('waits for the pass after the one that changed the escalation, and counts its own attempts ahead of the cache', () => {
    expect(notificationPhase(observed(notifying()), { ...start(notifying()), escalated: true })).toEqual({});
    const attempt = notificationPhase(observed(notifying()), start(notifying())).actions![0] as Any;
    const mine = { id: attempt.due.id, level: 2, attempts: 1, lastAttemptAt: '2026-11-22T10:00:00Z', nextAttemptAt: '2026-11-22T10:00:30Z' } as Any;
    const out = notificationPhase(observed(notifying(), { notification: mine }), start(notifying()));
    expect(out.stop).toBeUndefined();
    expect(out.requeueAfterMs).toBeGreaterThan(0);
  });
});

describe('acceptance', () => {
  const gatedModel = (status?: ClinicalModel['status']): ClinicalModel => ({
    ...fresh({ acceptance: { holdout: { configMapRef: { name: 'holdout', key: 'holdout.json' } }, minAuroc: 0.9 } as Any }),
    ...(status ? { status } : {}),
  });
  const jobSpec = (acceptanceJob(gatedModel(), SETTINGS.acceptanceImage) as Any).spec.template.spec;
  const JOB = { metadata: { name: 'j', uid: 'job-uid-1', creationTimestamp: '2026-11-22T09:59:00Z' }, spec: { template: { spec: jobSpec } }, status: {} };
  const pod = (state: object) => ({ metadata: { name: 'j-x', ownerReferences: [{ uid: 'job-uid-1', controller: true }] }, spec: jobSpec,
    status: { containerStatuses: [{ name: 'accept', state }] } });

  it('starts a Job for a candidate with none and reads it in the next pass', () => {
    const cr = gatedModel();
    const out = acceptancePhase(observed(cr, { acceptance: { image: SETTINGS.acceptanceImage, pods: [] } }), start(cr));
    expect(out.actions).toEqual([{ do: 'startAcceptance', image: SETTINGS.acceptanceImage }]);
    expect(out.events).toEqual([]);
    expect(out.requeueAfterMs).toBe(1);
  });

  it('starts another when the recorded Job is gone, replaced, or not from the acceptance image', () => {
    const cr = gatedModel();
    const recorded = { name: 'j', uid: 'job-uid-1' };
    for (const job of [undefined, { ...JOB, metadata: { ...JOB.metadata, uid: 'someone-else' } }]) {
      const out = acceptancePhase(observed(cr, { acceptance: { image: SETTINGS.acceptanceImage, recorded, ...(job ? { job } : {}), pods: [] } }), start(cr));
      expect(out.events?.[0]).toMatchObject({ reason: 'AcceptanceRestarted', message: expect.stringContaining('is gone or is not the one the operator made') });
      expect(out.actions?.[0]).toMatchObject({ do: 'startAcceptance' });
    }
    const other = acceptancePhase(observed(cr, { acceptance: { image: 'other@sha256:' + '1'.repeat(64), recorded, job: JOB, pods: [] } }), start(cr));
    expect(other.events?.[0]?.message).toContain("not the operator's acceptance image now");
  });

  it('records a running Job and looks again soon; a decided one once, with its verdict', () => {
    const cr = gatedModel();
    const acceptance = { image: SETTINGS.acceptanceImage, recorded: { name: 'j', uid: 'job-uid-1' }, job: JOB, holdoutSha256: 'ab'.repeat(32) };
    const running = acceptancePhase(observed(cr, { acceptance: { ...acceptance, pods: [pod({ running: {} })] } }), start(cr));
    expect(running.pass?.cr?.status?.acceptance?.candidate).toMatchObject({ sha256: sha, state: 'Running', jobUid: 'job-uid-1' });
    expect(running.requeueAfterMs).toBe(ACCEPTANCE_POLL_MS);
    const verdict = JSON.stringify({ sha256: sha, holdout: acceptance.holdoutSha256, pass: true, cases: 200, metrics: { auroc: 0.95123 } });
    const passed = acceptancePhase(observed(cr, { acceptance: { ...acceptance, pods: [pod({ terminated: { exitCode: 0, message: verdict, finishedAt: '2026-11-22T10:00:00Z' } })] } }), start(cr));
    expect(passed.pass?.cr?.status?.acceptance?.candidate?.state).toBe('Passed');
    expect(passed.events).toEqual([expect.objectContaining({ reason: 'Accepted', message: expect.stringContaining('auroc 0.9512'), once: { topic: `acceptance ${sha} Passed` } })]);
    expect(passed.actions).toEqual([{ do: 'acceptanceDone' }]);
  });

  it('does nothing for an ungated model or one whose candidate is decided', () => {
    expect(acceptancePhase(observed(fresh()), start(fresh()))).toEqual({});
    expect(acceptancePhase(observed(gatedModel()), start(gatedModel()))).toEqual({});
  });
});

describe('approval', () => {
  const signed = (by: string[]): ClinicalModel => fresh({
    approval: { signatures: PROTOCOL_CHECKLIST.flatMap((item) => by.map((signedBy) => ({ item, signedBy, sha256: sha }))) } as Any,
  });

  it('records what is missing, and announces the sign-off once it is complete', () => {
    const partial = approvalPhase(observed(signed(['dr-lee'])), start(signed(['dr-lee'])));
    expect(partial.pass?.cr?.status?.approval?.missing).toEqual(['go-no-go']);
    expect(partial.events).toBeUndefined();
    const done = approvalPhase(observed(signed(['dr-lee', 'dr-park'])), start(signed(['dr-lee', 'dr-park'])));
    expect(done.pass?.cr?.status?.approval?.approvedAt).toBe('2026-11-22T10:00:00Z');
    expect(done.pass?.cr?.status?.acceptance?.accepted?.sha256).toBe(sha);
    expect(done.events?.[0]).toMatchObject({ reason: 'Approved', once: { topic: `approved ${sha}` } });
    // Already approved in the object as read: said before.
    const again = { ...signed(['dr-lee', 'dr-park']), status: done.pass!.cr!.status } as ClinicalModel;
    expect(approvalPhase(observed(again), start(again)).events).toBeUndefined();
  });
});

describe('rollout', () => {
  it('does nothing without a rollout, and starts one in Shadow beside the accepted version', () => {
    expect(rolloutPhase(observed(fresh()), start(fresh()))).toEqual({});
    const cr = { ...fresh({ rollout: { shadow: { requests: 10 } } as Any }),
      status: { acceptance: { accepted: { sha256: '1'.repeat(64), version: '2.0.0', uri: 'pvc://models-claim/2.onnx', acceptedAt: '2026-11-20T00:00:00Z' } } } } as ClinicalModel;
    const out = rolloutPhase(observed(cr, { rollout: { candidatePods: [], servingPods: [] } }), start(cr));
    expect(out.record).toBe(true);
    expect(out.pass?.candidate).toBe('shadow');
    expect(out.pass?.cr?.status?.rollout).toMatchObject({ step: 'Shadow', sha256: sha });
  });
});

describe('children', () => {
  const phase = childrenPhase(SETTINGS);
  it('applies the Deployment and the Service, and deletes a candidate no rollout asks for', () => {
    const cr = fresh();
    const out = phase(observed(cr, { candidate: { metadata: { uid: 'c' } } }), start(cr));
    const action = out.actions![0] as Any;
    expect(action.children.map((c: Any) => `${c.kind} ${c.ref.name} ${c.desired ? 'apply' : 'delete'}`))
      .toEqual(['Deployment pneumonia-cxr apply', 'Service pneumonia-cxr apply', `Deployment ${candidateName('pneumonia-cxr')} delete`]);
    expect(out.forget).toEqual(['revoked']);
  });

  it('serves no replica of a revoked version, and says so once per revocation', () => {
    const cr = fresh();
    const revocations = new Map([[sha, { sha256: sha, model: 'old-model', revokedAt: '2026-11-20T00:00:00Z', reason: 'INC-1', incident: 'i' } as Any]]);
    const out = phase(observed(cr, { revocations }), start(cr));
    expect((out.actions![0] as Any).children[0].desired.spec.replicas).toBe(0);
    expect(out.events?.[0]).toMatchObject({ reason: 'Revoked', once: { topic: 'revoked' } });
    expect(out.forget).toEqual([]);
  });

  describe('with spec.serving.autoscaling', () => {
    const autoscaling = { minReplicas: 1, maxReplicas: 4, metric: 'requestsPerSecond' as const, target: 20, scaleDownDelay: '90s' };
    const scaled = (level = 0, escalation?: Any) => {
      const cr = fresh({ serving: { replicas: 2, autoscaling }, ...(escalation ? { escalation } : {}) });
      return level ? { ...cr, status: { escalation: { level } } } as Any : cr;
    };
    const kinds = (out: Any) => out.actions[0].children.map((c: Any) => `${c.kind} ${c.desired ? 'apply' : 'delete'}`);
    const hpa = { metadata: { uid: 'h' } } as Any;

    it('owns an HPA on the pods\' metric and leaves the Deployment\'s replicas to it', () => {
      const out = phase(observed(scaled()), start(scaled())) as Any;
      expect(kinds(out)).toEqual(['Deployment apply', 'Service apply', 'HorizontalPodAutoscaler apply']);
      const [deployment, , autoscaler] = out.actions[0].children;
      expect(deployment.desired.spec).not.toHaveProperty('replicas');
      expect(autoscaler.desired).toMatchObject({
        apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler',
        metadata: { name: 'pneumonia-cxr', ownerReferences: [{ kind: 'ClinicalModel', controller: true }] },
        spec: {
          scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'pneumonia-cxr' }, minReplicas: 1, maxReplicas: 4,
          metrics: [{ type: 'Pods', pods: { metric: { name: 'clinops_inference_requests_per_second' }, target: { type: 'AverageValue', averageValue: '20' } } }],
          behavior: { scaleDown: { stabilizationWindowSeconds: 90 } },
        },
      });
    });

    it('level 1 leaves it alone; Pause and Shutdown remove it and set the replicas to 0, however the load', () => {
      expect(kinds(phase(observed(scaled(1)), start(scaled(1))))).toContain('HorizontalPodAutoscaler apply');
      for (const level of [2, 3]) {
        const cr = scaled(level);
        const out = phase(observed(cr, { autoscaler: hpa }), start(cr)) as Any;
        expect(kinds(out)).toEqual(['Deployment apply', 'Service apply', 'HorizontalPodAutoscaler delete']);
        expect(out.actions[0].children[0].desired.spec.replicas).toBe(0);
      }
      // Nothing to delete when there is none: no write.
      expect(kinds(phase(observed(scaled(2)), start(scaled(2))))).toEqual(['Deployment apply', 'Service apply']);
    });

    it('brings a Deployment a pause left at 0 to the minimum when the autoscaler comes back (an HPA never scales from 0)', () => {
      const cr = scaled();
      const out = phase(observed(cr, { deployment: { metadata: { uid: 'd' }, spec: { replicas: 0 } } as Any }), start(cr)) as Any;
      expect(out.actions[0].rescale).toEqual({ ref: expect.objectContaining({ plural: 'deployments', name: 'pneumonia-cxr' }), replicas: 1 });
      const running = phase(observed(cr, { deployment: { metadata: { uid: 'd' }, spec: { replicas: 3 } } as Any }), start(cr)) as Any;
      expect(running.actions[0]).not.toHaveProperty('rescale');
    });

    it('ScaleDown caps its maxReplicas (and minReplicas with it); a cap of 0 removes it', () => {
      const cap = (replicas: number) => scaled(1, { level1: { action: 'ScaleDown', replicas } });
      const two = phase(observed(cap(2)), start(cap(2))) as Any;
      expect(two.actions[0].children[2].desired.spec).toMatchObject({ minReplicas: 1, maxReplicas: 2 });
      expect(kinds(phase(observed(cap(0), { autoscaler: hpa }), start(cap(0))))).toContain('HorizontalPodAutoscaler delete');
    });

    it('a revoked version has none', () => {
      const cr = scaled();
      const revocations = new Map([[sha, { sha256: sha, model: 'old', revokedAt: '2026-11-20T00:00:00Z', reason: 'INC-1', incident: 'i' } as Any]]);
      const out = phase(observed(cr, { revocations, autoscaler: hpa }), start(cr)) as Any;
      expect(kinds(out)).toContain('HorizontalPodAutoscaler delete');
      expect(out.actions[0].children[0].desired.spec.replicas).toBe(0);
    });

    it('removed from the spec, the HPA goes and the spec\'s replicas come back', () => {
      const cr = fresh({ serving: { replicas: 2 } });
      const out = phase(observed(cr, { autoscaler: hpa }), start(cr)) as Any;
      expect(kinds(out)).toContain('HorizontalPodAutoscaler delete');
      expect(out.actions[0].children[0].desired.spec.replicas).toBe(2);
    });
  });

  it('fails for good on a spec no Deployment can be made from', () => {
    const cr = fresh();
    const bad = { ...cr, spec: { ...cr.spec, model: { ...cr.spec.model, uri: 'ftp://nowhere/model.onnx' } } };
    expect(phase(observed(bad), start(bad)).fail).toMatchObject({ terminal: true, message: expect.stringContaining('ftp') });
  });

  it('says what changed in one Event, with a change of size and its level', () => {
    expect(childrenEvent([], { level: 0 })).toBeUndefined();
    expect(childrenEvent([{ kind: 'Deployment', name: 'm', verb: 'created' }, { kind: 'Service', name: 'm', verb: 'created' }], { level: 0 }))
      .toMatchObject({ reason: 'Created', message: 'Deployment m and Service m created' });
    expect(childrenEvent([{ kind: 'Deployment', name: 'm', verb: 'updated' }], { before: 2, after: 0, level: 2 })?.message)
      .toBe('Deployment m updated to match the spec (2 → 0 replicas, escalation level 2)');
  });
});

describe('review', () => {
  it('looks again a second after a review falls due, and says when one is overdue', () => {
    const cr = { ...fresh({ governance: { reviewEvery: '1h' } as Any }), status: { review: { lastReviewedAt: '2026-11-22T09:30:00Z' } } } as Any;
    expect(reviewPhase(observed(cr), start(cr))).toEqual({ actions: [{ do: 'reviewMetrics', overdue: false }], requeueAfterMs: 30 * 60_000 + 1000 });
    const late = { ...cr, status: { review: { lastReviewedAt: '2026-11-22T08:00:00Z' } } };
    expect(reviewPhase(observed(late), start(late)).actions).toEqual([{ do: 'reviewMetrics', overdue: true }]);
    expect(reviewPhase(observed(fresh()), start(fresh()))).toEqual({ actions: [{ do: 'reviewMetrics', overdue: false }] });
  });
});

describe('report', () => {
  it('writes the report of the last period when one is due, before status records it, and looks again a period on', () => {
    const cr = fresh({ governance: { reportEvery: '7d' } as Any });
    const out = reportPhase(observed(cr), start(cr));
    expect(out.before).toEqual([{ do: 'writeReport', since: NOW - 7 * 86_400_000 }]);
    expect(out.record).toBe(true);
    expect(out.pass?.cr?.status?.report).toEqual({ writtenAt: '2026-11-22T10:00:00Z', configMap: 'pneumonia-cxr-report', since: '2026-11-15T10:00:00Z' });
    expect(out.requeueAfterMs).toBe(7 * 86_400_000);
    const written = { ...cr, status: { report: out.pass!.cr!.status!.report! } } as ClinicalModel;
    expect(reportPhase(observed(written, { now: NOW + 86_400_000 }), start(written))).toEqual({ requeueAfterMs: 6 * 86_400_000 + 1000 });
    // Less than an hour counts as an hour; none set, nothing.
    const often = fresh({ governance: { reportEvery: '5m' } as Any });
    expect(reportPhase(observed(often), start(often)).requeueAfterMs).toBe(3_600_000);
    expect(reportPhase(observed(fresh()), start(fresh()))).toEqual({});
  });
});


describe('integration', () => {
  const dicomModel = (status: ClinicalModel['status'] = {}) => ({ ...fresh({ integration: { dicom: { accept: { modalities: ['CR'] } } } }), status }) as ClinicalModel;
  const counts = (over: Record<string, unknown> = {}) => ({ received: 5, ignored: 1, duplicate: 1, inferred: 3, delivered: 2, failed: 0, pending: 1, queued: 0, held: 0, failures: [], ...over });

  it('writes the replicas\' summed counts, with the latest failure, and reads again after the interval', () => {
    const cr = dicomModel();
    const out = integrationPhase(observed(cr, { dicom: { read: 2, totals: counts({ failures: [{ at: '2026-11-22T09:59:00Z', reason: 'delivery attempt 1 failed: the destination answered HTTP 503' }] }) } }), start(cr));
    expect(out.pass?.cr?.status?.integration?.dicom).toEqual({
      received: 5, ignored: 1, duplicate: 1, inferred: 3, delivered: 2, failed: 0, pending: 1, waiting: 0, heldReplicas: 0, replicasRead: 2,
      lastFailure: 'delivery attempt 1 failed: the destination answered HTTP 503', lastFailureTime: '2026-11-22T09:59:00Z', updatedTime: '2026-11-22T10:00:00.000Z',
    });
    expect(out.requeueAfterMs).toBe(15_500);
  });

  it('writes nothing when no count changed, when no replica was read, or when the model takes no studies', () => {
    const written = integrationPhase(observed(dicomModel(), { dicom: { read: 1, totals: counts() } }), start(dicomModel())).pass!.cr!;
    expect(integrationPhase(observed(written, { now: NOW + 60_000, dicom: { read: 1, totals: counts() } }), start(written))).toEqual({ requeueAfterMs: 15_500 });
    // A paused model has no replica to read: its last counts stand.
    expect(integrationPhase(observed(written, { dicom: { read: 0, totals: counts({ received: 0 }) } }), start(written))).toEqual({ requeueAfterMs: 15_500 });
    expect(integrationPhase(observed(fresh()), start(fresh()))).toEqual({});
    // A changed count is written.
    expect(integrationPhase(observed(written, { dicom: { read: 1, totals: counts({ delivered: 3, pending: 0 }) } }), start(written)).pass?.cr?.status?.integration?.dicom).toMatchObject({ delivered: 3, pending: 0 });
  });

  const target = (id: string, confirmed?: boolean) => ({ id, pod: `pod-${id}`, url: `http://10.0.0.${id}:8080`, ...(confirmed === undefined ? {} : { confirmed }) });
  const paused = () => dicomModel({ escalation: { level: 2, reason: 'significant drift' } as Any }) as ClinicalModel & { spec: Any };

  it('releases every replica not known to be released (each starts held), and asks again until each confirms', () => {
    const cr = dicomModel();
    const out = integrationPhase(observed(cr, { holdTargets: [target('1'), target('2', true), target('3', false)] }), start(cr));
    expect(out.actions).toEqual([{ do: 'hold', held: false, reason: 'escalation level 0: no reason recorded', targets: [target('1'), target('2', true)] }]);
    expect(out.requeueAfterMs).toBe(HOLD_RETRY_MS);
    // All confirmed: nothing to ask, the counts' own pace.
    expect(integrationPhase(observed(cr, { holdTargets: [target('3', false)] }), start(cr))).toEqual({ requeueAfterMs: 15_500 });
  });

  it('holds the replicas of a model its level pauses or shuts down, with the reason; a level that only alerts or scales down releases them', () => {
    const cr = paused();
    const out = integrationPhase(observed(cr, { holdTargets: [target('1', false), target('2', true)] }), start(cr));
    expect(out.actions).toEqual([{ do: 'hold', held: true, reason: 'escalation level 2: significant drift', targets: [target('1', false)] }]);
    const shut = dicomModel({ escalation: { level: 3, reason: 'patient-safety event' } as Any });
    expect(integrationPhase(observed(shut, { holdTargets: [target('1')] }), start(shut)).actions).toMatchObject([{ held: true }]);
    const scaled = { ...paused(), spec: { ...paused().spec, escalation: { level2: { action: 'ScaleDown', replicas: 1 } } } } as ClinicalModel;
    expect(integrationPhase(observed(scaled, { holdTargets: [target('1', true)] }), start(scaled)).actions).toMatchObject([{ held: false }]);
    const alert = dicomModel({ escalation: { level: 1, reason: 'moderate drift' } as Any });
    expect(integrationPhase(observed(alert, { holdTargets: [target('1', true)] }), start(alert)).actions).toMatchObject([{ held: false }]);
  });

  it('says how many instances wait and how many replicas hold', () => {
    const cr = paused();
    const out = integrationPhase(observed(cr, { holdTargets: [target('1', true)], dicom: { read: 1, totals: counts({ queued: 7, held: 1, inferred: 0, delivered: 0, pending: 0 }) } }), start(cr));
    expect(out.pass?.cr?.status?.integration?.dicom).toMatchObject({ waiting: 7, heldReplicas: 1, delivered: 0 });
    expect(out.actions).toBeUndefined();
  });
});
