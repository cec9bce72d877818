import type { ClinicalModel } from '../../../../operator/api/types.js';
import { afterAttempt, escalationEvent, MAX_ATTEMPTS, notificationDue } from '../../../../operator/governance/notify.js';
import { clinicalModel } from '../fixtures.js';

const NOW = Date.parse('2026-11-22T10:00:00Z');
const RAISED = '2026-11-22T09:59:00Z';

function escalated(history: NonNullable<NonNullable<ClinicalModel['status']>['escalation']>['history'], level = 2): ClinicalModel {
  return {
    ...clinicalModel({ governance: { notify: { url: 'https://retrain.example.org/hook' } } }),
    status: {
      escalation: { level, since: RAISED, reason: 'significant drift', history },
      drift: { lastCheckTime: RAISED, samples: 400, verdict: 'Significant', psi: 0.31, ks: { statistic: 0.2, pValue: 1e-6 },
        signals: [{ name: 'confidence', kind: 'confidence', verdict: 'Significant', psi: 0.31, statistic: 0.2, pValue: 1e-6 }] },
    },
  };
}

describe('notificationDue', () => {
  it('owes one event for a rise a check caused, keyed by model, level and time', () => {
    const cr = escalated([{ time: RAISED, from: 0, to: 2, reason: 'drift', psi: 0.31, ksPValue: 1e-6 }]);
    expect(notificationDue(cr, NOW)).toEqual({ id: `uid-1-2-${Date.parse(RAISED)}`, level: 2, now: true, at: NOW });
    // Not for a model without notify, a rise from a safety report, or a fall through an acknowledgement.
    expect(notificationDue({ ...cr, spec: { ...cr.spec, governance: {} } }, NOW)).toBeUndefined();
    expect(notificationDue(escalated([{ time: RAISED, from: 0, to: 3, reason: 'patient-safety event' }], 3), NOW)).toBeUndefined();
    expect(notificationDue(escalated([{ time: RAISED, from: 2, to: 1, reason: 'acknowledged', reviewer: 'dr-lee' }], 1), NOW)).toBeUndefined();
  });

  it('waits for the backoff, and is done once delivered or given up', () => {
    const cr = escalated([{ time: RAISED, from: 1, to: 2, reason: 'performance', dip: 0.2 }]);
    const due = notificationDue(cr, NOW)!;
    const failed = afterAttempt(undefined, due, 'HTTP 503', NOW);
    expect(failed).toEqual({ id: due.id, level: 2, attempts: 1, lastAttemptAt: '2026-11-22T10:00:00Z', lastError: 'HTTP 503', nextAttemptAt: '2026-11-22T10:00:05Z' });
    const waiting = { ...cr, status: { ...cr.status, notification: failed } };
    expect(notificationDue(waiting, NOW + 1000)).toMatchObject({ now: false, at: NOW + 5000 });
    expect(notificationDue(waiting, NOW + 5000)).toMatchObject({ now: true });
    const second = afterAttempt(failed, due, 'HTTP 503', NOW + 5000);
    expect(second).toMatchObject({ attempts: 2, nextAttemptAt: '2026-11-22T10:00:15Z' }); // 10 s later
    const delivered = afterAttempt(second, due, undefined, NOW + 15_000);
    expect(delivered).toEqual({ id: due.id, level: 2, attempts: 3, lastAttemptAt: '2026-11-22T10:00:15Z', deliveredAt: '2026-11-22T10:00:15Z' });
    expect(notificationDue({ ...cr, status: { ...cr.status, notification: delivered } }, NOW + 20_000)).toBeUndefined();
    let n = failed;
    for (let i = 1; i < MAX_ATTEMPTS; i++) n = afterAttempt(n, due, 'refused', NOW);
    expect(n).toMatchObject({ attempts: MAX_ATTEMPTS, gaveUp: true, lastError: 'refused' });
    expect(n.nextAttemptAt).toBeUndefined();
    expect(notificationDue({ ...cr, status: { ...cr.status, notification: n } }, NOW)).toBeUndefined();
  });
});

it('builds a CloudEvent with the model, verdicts, numbers and relabelling ids, and no input', () => {
  const cr = escalated([{ time: RAISED, from: 0, to: 2, reason: 'drift', psi: 0.31 }]);
  const e = escalationEvent(cr, 'the-id', ['p1', 'p2'], NOW);
  expect(e).toMatchObject({
    specversion: '1.0', id: 'the-id', type: 'dev.clinops.model.escalated', subject: 'radiology/pneumonia-cxr',
    source: '/apis/clinops.dev/v1alpha1/namespaces/radiology/clinicalmodels/pneumonia-cxr', time: '2026-11-22T10:00:00Z',
    datacontenttype: 'application/json',
    data: { model: { name: 'pneumonia-cxr', version: '3.0.0', sha256: cr.spec.model.sha256 }, level: 2, previousLevel: 0, reason: 'significant drift',
      drift: { verdict: 'Significant', psi: 0.31, samples: 400 }, relabel: ['p1', 'p2'] },
  });
});
