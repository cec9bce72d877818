import { asServed, settleGates } from '../../../../operator/acceptance/gate.js';
import { servedModel } from '../../../../operator/serving/versions.js';
import type { ClinicalModel, RolloutStatus } from '../../../../operator/api/types.js';
import type { ObservedPod } from '../../../../operator/serving/pods.js';
import { LABEL_INSTANCE } from '../../../../operator/desired/labels.js';
import { CANDIDATE_LABEL, candidateDeployment, candidateHealth, rolloutPass, shadowStatus, sumShadow, type RolloutObservation, type ShadowTotals } from '../../../../operator/rollout/rollout.js';
import { inRollout } from '../../../../operator/serving/versions.js';
import { rng } from '../../../models/generate.js';
import { clinicalModel } from '../fixtures.js';

const OLD = '1'.repeat(64);
const NEW = '2'.repeat(64);
const T0 = '2026-11-22T10:00:00Z';
const at = (s: number) => new Date(Date.parse(T0) + s * 1000).toISOString().replace('.000Z', 'Z');

function model(status: ClinicalModel['status'] = {}, rollout: ClinicalModel['spec']['rollout'] = { shadow: { requests: 100 }, canary: { replicas: 1, duration: '1m' } }): ClinicalModel {
  const cr = clinicalModel({ rollout });
  cr.spec.model = { ...cr.spec.model, sha256: NEW, version: '2.0.0' };
  cr.status = { acceptance: { accepted: { sha256: OLD, version: '1.0.0', uri: 'pvc://m/1.onnx', acceptedAt: T0 } }, ...status };
  return cr;
}

const readyPod = (name = 'c-1', labels: Record<string, string> = {}): ObservedPod => ({ metadata: { name, labels }, status: { podIP: '10.0.0.9', conditions: [{ type: 'Ready', status: 'True' }], containerStatuses: [{ name: 'server', ready: true, restartCount: 0 }] } });
/** A candidate pod behind the Service (a canary's). */
const canaryPod = (name = 'c-2') => readyPod(name, { [LABEL_INSTANCE]: 'pneumonia-cxr' });
const obs = (o: Partial<RolloutObservation> = {}): RolloutObservation => ({ now: T0, candidatePods: [], servingCurrent: false, ...o });
const inStep = (step: RolloutStatus['step'], since = T0, extra: Partial<RolloutStatus> = {}): RolloutStatus =>
  ({ sha256: NEW, version: '2.0.0', step, from: { sha256: OLD, version: '1.0.0' }, startedAt: T0, stepStartedAt: since, levelAtStep: 0, ...extra });

/** n compared copies where the candidate agrees on all but `disagree`, confidences `diff` apart. */
function totals(n: number, disagree = 0, diff = 0.01): ShadowTotals {
  const r = rng(3);
  const confidences = Array.from({ length: n }, () => 0.5 + r() / 2);
  return {
    sent: n, dropped: 0, failed: 0, compared: n, agreed: n - disagree, confidenceDifferenceSum: diff * n,
    labels: { serving: { A: n / 2, B: n / 2 }, candidate: { A: n / 2 + disagree, B: n / 2 - disagree } }, confidences,
  };
}

describe('which version serves during a rollout', () => {
  it('the accepted version serves until the candidate is promoted; the first version serves at once', () => {
    const first = model({});
    delete first.status!.acceptance;
    expect(inRollout(first)).toBe(false);
    expect(servedModel(first)?.sha256).toBe(NEW);
    expect(settleGates(first, T0).status?.acceptance?.accepted?.sha256).toBe(NEW);

    const update = model();
    expect(inRollout(update)).toBe(true);
    expect(servedModel(update)?.sha256).toBe(OLD);
    // settleGates leaves the accepted version to the rollout's promotion.
    expect(settleGates(update, T0).status?.acceptance?.accepted?.sha256).toBe(OLD);
    expect(asServed(update).spec.model.sha256).toBe(OLD);
  });
});

describe('rolloutPass', () => {
  it('starts in shadow once the candidate passed its gates, and not before', () => {
    expect(rolloutPass(model(), obs(), false)).toMatchObject({ changed: false, candidate: 'none' });
    const p = rolloutPass(model(), obs(), true);
    expect(p).toMatchObject({ changed: true, candidate: 'shadow', rollout: { step: 'Shadow', sha256: NEW, from: { sha256: OLD, version: '1.0.0' }, startedAt: T0 } });
    expect(p.events.map((e) => e.reason)).toEqual(['RolloutStarted']);
  });

  it('starts as a canary when no shadow is asked for', () => {
    expect(rolloutPass(model({}, { canary: {} }), obs(), true).rollout?.step).toBe('Canary');
  });

  it('never starts for a paused or shut-down model', () => {
    const paused = model({ escalation: { level: 2 } } as ClinicalModel['status']);
    expect(rolloutPass(paused, obs(), true)).toMatchObject({ changed: false, candidate: 'none' });
  });

  it('in shadow: counts until enough copies are compared, then passes to the canary', () => {
    const cr = model({ rollout: inStep('Shadow') });
    const waiting = rolloutPass(cr, obs({ candidatePods: [readyPod()], shadow: totals(40) }), true);
    expect(waiting).toMatchObject({ changed: false, candidate: 'shadow', shadowTarget: 'set', rollout: { step: 'Shadow', shadow: { compared: 40 } } });
    const passed = rolloutPass(cr, obs({ now: at(30), candidatePods: [readyPod()], shadow: totals(120, 2) }), true);
    expect(passed).toMatchObject({ changed: true, candidate: 'canary', shadowTarget: 'clear', rollout: { step: 'Canary', stepStartedAt: at(30), shadow: { compared: 120, agreement: 0.9833 } } });
    expect(passed.events[0]!.reason).toBe('ShadowPassed');
  });

  it('in shadow: labels that disagree too often, or confidences too far apart, roll back and say why', () => {
    const cr = model({ rollout: inStep('Shadow') });
    const disagree = rolloutPass(cr, obs({ candidatePods: [readyPod()], shadow: totals(100, 20) }), true);
    expect(disagree).toMatchObject({ changed: true, candidate: 'none', shadowTarget: 'clear', rollout: { step: 'RolledBack' } });
    expect(disagree.rollout!.message).toBe('version 2.0.0 rolled back in shadow: labels differ on 20% of 100 predictions (at most 10%); ' +
      "a label's rate differs by 20% (at most 5%); version 1.0.0 keeps serving");
    expect(disagree.rollout!.history).toEqual([expect.objectContaining({ sha256: NEW, outcome: 'RolledBack' })]);
    expect(disagree.events[0]).toMatchObject({ type: 'Warning', reason: 'RolledBack' });
    const far = rolloutPass(cr, obs({ candidatePods: [readyPod()], shadow: totals(100, 0, 0.3) }), true);
    expect(far.rollout!.message).toContain('confidences differ by 0.3 on average (at most 0.1)');
  });

  it('in shadow: a candidate whose confidences drift from the reference rolls back', () => {
    const cr = model({ rollout: inStep('Shadow') });
    const r = rng(9);
    const reference = Array.from({ length: 2000 }, () => 0.5 + r() / 2);
    const low = totals(300);
    low.confidences = low.confidences.map((c) => 0.5 + (c - 0.5) / 4);
    const p = rolloutPass(cr, obs({ candidatePods: [readyPod()], shadow: low, reference }), true);
    expect(p.rollout).toMatchObject({ step: 'RolledBack', shadow: { drift: { verdict: 'Significant' } } });
    expect(p.rollout!.message).toContain('its confidences drift from the reference');
    const same = rolloutPass(cr, obs({ candidatePods: [readyPod()], shadow: totals(300), reference }), true);
    expect(same.rollout?.shadow?.drift?.verdict).toBe('NoDrift');
    expect(same.rollout?.step).toBe('Canary');
  });

  it('in shadow: a candidate that answers no copy rolls back', () => {
    const cr = model({ rollout: inStep('Shadow') });
    const t = { ...totals(0), sent: 30, failed: 30, lastError: 'HTTP 500: boom' };
    expect(rolloutPass(cr, obs({ candidatePods: [readyPod()], shadow: t }), true).rollout?.message).toContain('30 of 30 copies got no answer from the candidate (HTTP 500: boom)');
  });

  it('as a canary: waits out its duration with a ready candidate behind the Service, then promotes; the serving Deployment rolls, then Promoted', () => {
    const cr = model({ rollout: inStep('Canary', at(0)) });
    expect(rolloutPass(cr, obs({ now: at(30), candidatePods: [canaryPod()] }), true)).toMatchObject({ changed: false, candidate: 'canary', requeueAfterMs: 15_000 });
    // The shadow's pod, still ready while the Deployment changes, is not the canary.
    expect(rolloutPass(cr, obs({ now: at(61), candidatePods: [readyPod()] }), true)).toMatchObject({ changed: false, candidate: 'canary' });
    const promoting = rolloutPass(cr, obs({ now: at(61), candidatePods: [canaryPod()] }), true);
    // The candidate's Deployment goes at once: the serving one's old pods answer until its new ones are ready.
    expect(promoting).toMatchObject({ changed: true, candidate: 'none', rollout: { step: 'Promoting' }, accepted: { sha256: NEW, version: '2.0.0', promotedAt: at(61) } });
    // The accepted version is now the candidate: it serves, and the pass waits for every replica to run it.
    const after = model({ rollout: promoting.rollout, acceptance: { accepted: promoting.accepted } });
    expect(inRollout(after)).toBe(false);
    expect(servedModel(after)?.sha256).toBe(NEW);
    expect(rolloutPass(after, obs({ now: at(62) }), true)).toMatchObject({ changed: false, candidate: 'none' });
    const done = rolloutPass(after, obs({ now: at(70), servingCurrent: true }), true);
    expect(done).toMatchObject({ changed: true, candidate: 'none', rollout: { step: 'Promoted', finishedAt: at(70) } });
    expect(done.rollout!.history).toEqual([expect.objectContaining({ outcome: 'Promoted', sha256: NEW })]);
    // And then nothing more happens.
    expect(rolloutPass(model({ rollout: done.rollout, acceptance: { accepted: promoting.accepted } }), obs({ now: at(80) }), true)).toMatchObject({ changed: false, candidate: 'none' });
  });

  it('as a canary: an escalation or a drifted check after it began rolls back; one from before does not', () => {
    const esc = model({ rollout: inStep('Canary', at(0)), escalation: { level: 1, reason: 'PSI 0.3' } } as ClinicalModel['status']);
    expect(rolloutPass(esc, obs({ now: at(10), candidatePods: [canaryPod()] }), true).rollout?.message)
      .toBe("version 2.0.0 rolled back in canary: the model's escalation rose to level 1 (PSI 0.3); version 1.0.0 keeps serving");
    const drift = (time: string) => model({ rollout: inStep('Canary', at(0)), drift: { verdict: 'Moderate', lastCheckTime: time, samples: 300 } } as ClinicalModel['status']);
    expect(rolloutPass(drift(at(20)), obs({ now: at(30), candidatePods: [canaryPod()] }), true).rollout?.step).toBe('RolledBack');
    expect(rolloutPass(drift(at(-20)), obs({ now: at(30), candidatePods: [canaryPod()] }), true).changed).toBe(false);
  });

  it('rolls back when the model is paused, or the candidate crash-loops or never gets ready', () => {
    const paused = model({ rollout: inStep('Canary'), escalation: { level: 2 } } as ClinicalModel['status']);
    expect(rolloutPass(paused, obs(), true).rollout?.message).toContain('the model was paused at escalation level 2');
    const crashing: ObservedPod = { metadata: { name: 'c-1' }, status: { containerStatuses: [{ name: 'server', restartCount: 3, state: { waiting: { reason: 'CrashLoopBackOff' } } }] } };
    expect(rolloutPass(model({ rollout: inStep('Shadow') }), obs({ candidatePods: [crashing] }), true).rollout?.message).toContain('CrashLoopBackOff');
    expect(rolloutPass(model({ rollout: inStep('Shadow') }), obs(), false).rollout?.message).toContain('it no longer passes its gates');
    expect(candidateHealth([], 6 * 60_000)).toBe('no pod of it was ready within 5 minutes');
    const pending: ObservedPod = { metadata: { name: 'c-3' }, status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/3 nodes are available: 1 Insufficient cpu' }] } };
    expect(candidateHealth([pending], 6 * 60_000)).toBe('no pod of it was ready within 5 minutes (pod c-3: 0/3 nodes are available: 1 Insufficient cpu)');
    expect(candidateHealth([], 60_000)).toBeUndefined();
  });

  it('a rolled-back version is not tried again; a new spec.model starts afresh, and one mid-rollout closes the old one', () => {
    const back = model({ rollout: inStep('RolledBack') });
    expect(rolloutPass(back, obs(), true)).toMatchObject({ changed: false, candidate: 'none' });
    expect(servedModel(back)?.sha256).toBe(OLD);
    const newer = model({ rollout: inStep('Canary') });
    newer.spec.model.sha256 = '3'.repeat(64);
    newer.spec.model.version = '3.0.0';
    const closed = rolloutPass(newer, obs(), true);
    expect(closed).toMatchObject({ changed: true, candidate: 'none', rollout: { step: 'RolledBack', sha256: NEW } });
    expect(closed.rollout!.message).toContain('the spec now names version 3.0.0');
    const next = rolloutPass({ ...newer, status: { ...newer.status, rollout: closed.rollout } }, obs(), true);
    expect(next.rollout).toMatchObject({ step: 'Shadow', sha256: '3'.repeat(64), history: [expect.objectContaining({ sha256: NEW })] });
  });
});

describe('shadow figures', () => {
  it('sums the replicas and judges label rates both ways', () => {
    const t = sumShadow([
      { sent: 3, compared: 3, agreed: 2, confidenceDifferenceSum: 0.3, labels: { serving: { A: 3 }, candidate: { A: 2, B: 1 } }, confidences: [0.9, 0.8, 0.7] },
      { sent: 1, compared: 1, agreed: 1, confidenceDifferenceSum: 0.1, labels: { serving: { B: 1 }, candidate: { B: 1 } }, confidences: [0.6], failed: 2 },
    ]);
    expect(t).toMatchObject({ sent: 4, compared: 4, agreed: 3, failed: 2, labels: { serving: { A: 3, B: 1 }, candidate: { A: 2, B: 2 } } });
    expect(shadowStatus(t, undefined, model())).toEqual({ compared: 4, sent: 4, dropped: 0, failed: 2, agreement: 0.75, confidenceDifference: 0.1, labelRateDifference: 0.25 });
  });
});

describe('candidateDeployment', () => {
  it('in shadow its pods are outside the Service and the model\'s checks; as a canary they join them', () => {
    const cr = model();
    const shadow = candidateDeployment(cr, 'shadow', { serverImage: 'clinops/server:dev' }) as any; // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(shadow.metadata.name).toBe('pneumonia-cxr-candidate');
    expect(shadow.spec.selector).toEqual({ matchLabels: { [CANDIDATE_LABEL]: 'pneumonia-cxr' } });
    expect(shadow.spec.template.metadata.labels[LABEL_INSTANCE]).toBeUndefined();
    expect(shadow.spec.template.metadata.labels[CANDIDATE_LABEL]).toBe('pneumonia-cxr');
    expect(shadow.spec.replicas).toBe(1);
    expect(shadow.spec.strategy).toEqual({ type: 'Recreate' });
    const env = shadow.spec.template.spec.containers[0].env as Array<{ name: string; value?: string }>;
    expect(env.find((e) => e.name === 'CLINOPS_MODEL_SHA256')?.value).toBe(NEW);
    const canary = candidateDeployment(cr, 'canary', { serverImage: 'clinops/server:dev' }) as any; // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(canary.spec.template.metadata.labels[LABEL_INSTANCE]).toBe('pneumonia-cxr');
    expect(canary.spec.selector).toEqual(shadow.spec.selector);
    expect(canary.metadata.labels[LABEL_INSTANCE]).toBeUndefined();
  });
});
