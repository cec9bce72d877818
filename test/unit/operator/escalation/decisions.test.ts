// Decisions about findings: an Accept in force keeps a finding of its kind, up to its level, from raising
// the escalation level and repeating its Warnings; it expires; a worse finding escalates; status keeps
// every decision with when it was first seen.
import type { ClinicalModel, Decision, DriftStatus } from '../../../../operator/api/types.js';
import type { Judgement } from '../../../../operator/drift/judge.js';
import { acceptedNow, decisionRecords, withoutAccepted } from '../../../../operator/escalation/decisions.js';
import { escalationStep } from '../../../../operator/escalation/step.js';
import { clinicalModel } from '../fixtures.js';

const T0 = Date.parse('2026-11-21T12:00:00Z');
const accept = (more: Partial<Decision> = {}): Decision =>
  ({ reviewer: 'dr-lee', finding: 'Drift', decision: 'Accept', reason: 'new scanner at site B; reviewed 200 cases, outputs clinically sound', until: '2026-12-21T00:00:00Z', ...more });
const model = (decisions: Decision[], status: ClinicalModel['status'] = {}): ClinicalModel => ({
  ...clinicalModel({ monitoring: { interval: '60s' }, escalation: { consecutiveBreaches: 1 }, governance: { decisions } }, { creationTimestamp: '2026-11-21T11:00:00Z' }),
  status,
});
const check = (verdict: 'Moderate' | 'Significant', level: 1 | 2): Judgement => ({
  drift: { lastCheckTime: '2026-11-21T12:00:00Z', samples: 300, verdict, psi: level === 1 ? 0.15 : 0.3, ks: { statistic: 0.2, pValue: 0.001 } } as DriftStatus,
  findings: { driftLevel: level, psi: level === 1 ? 0.15 : 0.3, summary: `${verdict.toLowerCase()} drift` },
  consumed: { window: 300, feedback: 0, features: false },
});
const step = (cr: ClinicalModel, j: Judgement, now = T0) => escalationStep(cr, { now, judgement: j, nextCheckDue: now + 60_000, random: 0 });

describe('decisions', () => {
  it('keeps an accepted moderate drift from raising the level or repeating its Warning', () => {
    const s = step(model([accept()]), check('Moderate', 1));
    expect(s.escalation.level ?? 0).toBe(0);
    expect(s.announcements.map((a) => a.reason)).toEqual([]);
    // The same finding without the decision: level 1 and its Warnings.
    const without = step(model([]), check('Moderate', 1));
    expect(without.escalation.level).toBe(1);
    expect(without.announcements.map((a) => a.reason)).toEqual(['DriftDetected', 'Escalated']);
  });

  it('lets a worse finding, an expired decision, another kind or another decision escalate as ever', () => {
    expect(step(model([accept()]), check('Significant', 2)).escalation.level).toBe(2);
    expect(step(model([accept({ upToLevel: 2 })]), check('Significant', 2)).escalation.level ?? 0).toBe(0);
    expect(step(model([accept()]), check('Moderate', 1), Date.parse('2026-12-21T00:00:01Z')).escalation.level).toBe(1);
    expect(step(model([accept({ finding: 'Performance' })]), check('Moderate', 1)).escalation.level).toBe(1);
    expect(step(model([accept({ decision: 'Act' })]), check('Moderate', 1)).escalation.level).toBe(1);
  });

  it('says what is accepted now, and takes it out of the findings', () => {
    expect(acceptedNow(model([accept(), accept({ finding: 'Performance', upToLevel: 2 })]), T0)).toEqual({ drift: 1, performance: 2 });
    expect(withoutAccepted({ driftLevel: 1, dipLevel: 2, summary: 's' }, { drift: 1, performance: 1 })).toEqual({ driftLevel: 0, dipLevel: 2, summary: 's', accepted: ['Drift'] });
  });

  it('records each decision once, with when it was first seen, and keeps it after it leaves the spec', () => {
    const first = decisionRecords(model([accept()]), '2026-11-21T12:00:00Z')!;
    expect(first).toEqual([{ ...accept(), upToLevel: 1, seenAt: '2026-11-21T12:00:00Z', active: true }]);
    const act: Decision = { reviewer: 'dr-park', finding: 'Performance', decision: 'Retrain', reason: 'site B dip confirmed by labels; retraining with its data' };
    const later = decisionRecords(model([accept(), act], { decisions: first }), '2026-11-22T09:00:00Z')!;
    expect(later.map((r) => [r.reviewer, r.decision, r.seenAt, r.active])).toEqual([['dr-lee', 'Accept', '2026-11-21T12:00:00Z', true], ['dr-park', 'Retrain', '2026-11-22T09:00:00Z', undefined]]);
    // Removed from the spec: kept, no longer in force.
    const removed = decisionRecords(model([], { decisions: later }), '2026-11-23T00:00:00Z')!;
    expect(removed.map((r) => [r.reviewer, r.active])).toEqual([['dr-lee', undefined], ['dr-park', undefined]]);
    expect(decisionRecords(model([]), '2026-11-23T00:00:00Z')).toBeUndefined();
  });
});
