import type { ClinicalModel, DriftStatus } from '../../../../operator/api/types.js';
import type { Judgement } from '../../../../operator/drift/judge.js';
import { escalationStep } from '../../../../operator/escalation/step.js';
import { checkDue, nextCheckDue } from '../../../../operator/drift/schedule.js';
import { clinicalModel } from '../fixtures.js';

const T0 = Date.parse('2026-11-21T12:00:00Z');
const SEC = 1000;

function cr(status: ClinicalModel['status'] = {}, spec: Partial<ClinicalModel['spec']> = {}, annotations?: Record<string, string>): ClinicalModel {
  return {
    ...clinicalModel({ monitoring: { interval: '60s' }, escalation: { consecutiveBreaches: 1 }, ...spec }, { creationTimestamp: '2026-11-21T11:00:00Z', annotations }),
    status,
  };
}

function checkOf(drift: DriftStatus, level?: 0 | 1 | 2): Judgement {
  return {
    drift,
    findings: level === undefined ? undefined : { driftLevel: level, psi: drift.psi, ksPValue: drift.ks?.pValue, summary: `${drift.verdict} drift` },
    consumed: { window: drift.samples ?? 0, feedback: 0, features: false },
  };
}

const moderate = (now: number) => checkOf({ lastCheckTime: new Date(now).toISOString().replace('.000', ''), samples: 300, verdict: 'Moderate', psi: 0.15, ks: { statistic: 0.2, pValue: 0.001 } }, 1);

/** One pass as the reconciler makes it: a check is judged only when it is due (here: given, or moderate drift). */
function run(model: ClinicalModel, now: number, check?: Judgement, lastCheck?: number) {
  const due = checkDue(model, lastCheck, now);
  const step = escalationStep(model, { now, judgement: due ? (check ?? moderate(now)) : undefined, nextCheckDue: nextCheckDue(model, lastCheck), random: 0.5 });
  return { step, ran: due ? 1 : 0 };
}

describe('escalationStep', () => {
  it('runs a due check, raises the level and announces it with the numbers and the review time', () => {
    const { step, ran } = run(cr({ drift: { lastCheckTime: '2026-11-21T11:59:00Z' } }), T0);
    expect(ran).toBe(1);
    expect(step.changed).toBe(true);
    expect(step.transitioned).toBe(true);
    expect(step.escalation).toMatchObject({ level: 1, reviewDueBy: '2026-11-23T12:00:00Z' });
    expect(step.drift?.verdict).toBe('Moderate');
    expect(step.announcements.map((a) => a.reason)).toEqual(['DriftDetected', 'Escalated']);
    expect(step.announcements[1]!.message).toContain('level 0 → 1 (Alert)');
    // the next check one interval on, plus a jitter of at most 10 %
    expect(step.requeueAfterMs).toBe(60 * SEC + 3 * SEC);
  });

  it('does not check before it is due and writes nothing when nothing changed', () => {
    const { step, ran } = run(cr({ drift: { lastCheckTime: '2026-11-21T11:59:30Z', verdict: 'NoDrift' }, escalation: { level: 0 } }), T0);
    expect(ran).toBe(0);
    expect(step.changed).toBe(false);
    expect(step.announcements).toEqual([]);
    expect(step.requeueAfterMs).toBe(30 * SEC + 3 * SEC);
  });

  it('raises level 3 on a safety event at once and opens an incident', () => {
    const model = cr({ escalation: { level: 1 } }, {}, { 'clinops.dev/safety-event': 'INC-9: wrong patient' });
    const { step, ran } = run(model, T0, undefined, T0);
    expect(ran).toBe(0);
    expect(step.escalation).toMatchObject({ level: 3, shutdownSha256: model.spec.model.sha256.toLowerCase(), safetyEvents: ['INC-9'] });
    expect(step.escalation.incident).toEqual({
      id: 'pneumonia-cxr-20261121-120000', level: 3, openedAt: '2026-11-21T12:00:00Z', reason: 'patient-safety event INC-9: wrong patient',
      modelVersion: '3.0.0', sha256: model.spec.model.sha256.toLowerCase(),
    });
    expect(step.escalation.incidents).toEqual([step.escalation.incident]);
    expect(step.announcements.map((a) => a.reason)).toEqual(['Escalated', 'IncidentOpened']);
    // acted on once: the same annotation on the next pass changes nothing
    const again = run({ ...model, status: { escalation: step.escalation } }, T0 + SEC, undefined, T0);
    expect(again.step.changed).toBe(false);
  });

  it('applies an acknowledgement of the current level and refuses one of another level', () => {
    const paused = cr({ escalation: { level: 2, reason: 'significant drift' } }, { escalation: { consecutiveBreaches: 1, acknowledgement: { reviewer: 'dr-lee', level: 2, note: 'reviewed' } } });
    const { step } = run(paused, T0, undefined, T0);
    expect(step.escalation).toMatchObject({ level: 0, acknowledgedBy: 'dr-lee' });
    expect(step.announcements).toEqual([{ type: 'Normal', reason: 'Acknowledged', message: 'level 2 → 0: acknowledged by dr-lee: reviewed' }]);
    const wrong = cr({ escalation: { level: 2 } }, { escalation: { acknowledgement: { reviewer: 'dr-lee', level: 1 } } });
    const refused = run(wrong, T0, undefined, T0);
    expect(refused.step.escalation.level).toBe(2);
    expect(refused.step.refusedAcknowledgement?.message).toContain('for level 1, the model is at level 2');
  });

  it('opens an incident for an automatic pause too, and the acknowledging reviewer closes it by name', () => {
    const significant = checkOf({ lastCheckTime: '2026-11-21T12:00:00Z', samples: 300, verdict: 'Significant', psi: 0.4, ks: { statistic: 0.3, pValue: 1e-9 } }, 2);
    const { step } = run(cr({ drift: { lastCheckTime: '2026-11-21T11:59:00Z' } }), T0, significant);
    expect(step.escalation.level).toBe(2);
    expect(step.escalation.incidents).toEqual([{
      id: 'pneumonia-cxr-20261121-120000', level: 2, openedAt: '2026-11-21T12:00:00Z', reason: 'Significant drift (1 consecutive check)',
      modelVersion: '3.0.0', sha256: 'abcdef'.padEnd(64, '0'),
    }]);
    expect(step.announcements.find((a) => a.reason === 'IncidentOpened')?.message)
      .toBe('incident pneumonia-cxr-20261121-120000: model 3.0.0 (sha256 abcdef000000…) at level 2 (Pause): Significant drift (1 consecutive check)');

    // A safety event in the same second opens a second incident with an id of its own.
    const harmed = cr({ escalation: step.escalation }, {}, { 'clinops.dev/safety-event': 'INC-4: missed deterioration' });
    const shut = run(harmed, T0, undefined, T0).step;
    expect(shut.escalation.incidents?.map((i) => [i.id, i.level])).toEqual([['pneumonia-cxr-20261121-120000', 2], ['pneumonia-cxr-20261121-120000-2', 3]]);

    // dr-lee acknowledges level 2: its incident is closed by her, with her note.
    const acked = cr({ escalation: step.escalation }, { escalation: { consecutiveBreaches: 1, acknowledgement: { reviewer: 'dr-lee', level: 2, note: 'input pipeline fixed' } } });
    const back = run(acked, T0 + 60 * SEC, undefined, T0 + 60 * SEC).step;
    expect(back.escalation.level).toBe(0);
    expect(back.escalation.incidents).toEqual([expect.objectContaining({
      id: 'pneumonia-cxr-20261121-120000', closedAt: '2026-11-21T12:01:00Z', closedBy: 'dr-lee', closeNote: 'input pipeline fixed' })]);
    expect(back.escalation.incident).toEqual(back.escalation.incidents![0]);
    expect(back.announcements.map((a) => [a.reason, a.message])).toContainEqual(['IncidentClosed', 'incident pneumonia-cxr-20261121-120000 closed by dr-lee: input pipeline fixed']);
  });

  it('records an InsufficientData check without announcing drift', () => {
    const thin = checkOf({ lastCheckTime: '2026-11-21T12:00:00Z', samples: 12, verdict: 'InsufficientData', message: '12 of 200 predictions needed' });
    const { step } = run(cr(), T0, thin);
    expect(step.changed).toBe(true);
    expect(step.transitioned).toBe(false);
    expect(step.escalation.level).toBe(0);
    expect(step.announcements).toEqual([]);
  });
});
