import { INITIAL_STATE, nextEscalation } from '../../../../operator/escalation/machine.js';
import { escalationPolicy, safetyEvents, stateFromStatus, statusFromState } from '../../../../operator/escalation/state.js';
import { clinicalModel } from '../fixtures.js';

describe('escalationPolicy', () => {
  it('takes the CRD defaults and the review windows of each level', () => {
    const p = escalationPolicy(clinicalModel({ monitoring: { interval: '30s' }, escalation: { consecutiveBreaches: 3, level1: { action: 'Alert', reviewWithin: '48h' }, level2: { action: 'Pause', reviewWithin: '4h' } } }));
    expect(p).toEqual({ consecutiveBreaches: 3, reviewWithinMs: { 1: 48 * 3_600_000, 2: 4 * 3_600_000 }, cooldownMs: 30_000, historyLimit: 20 });
    expect(escalationPolicy(clinicalModel()).consecutiveBreaches).toBe(2);
    expect(escalationPolicy(clinicalModel()).cooldownMs).toBe(300_000);
  });
});

describe('safetyEvents', () => {
  it('reads the annotation: the identifier before the first colon, the rest as the description', () => {
    const cr = clinicalModel({}, { annotations: { 'clinops.dev/safety-event': ' INC-2041: missed pneumothorax: portable film ' } });
    expect(safetyEvents(cr)).toEqual([{ id: 'INC-2041', description: 'missed pneumothorax: portable film' }]);
    expect(safetyEvents(clinicalModel({}, { annotations: { 'clinops.dev/safety-event': 'INC-7' } }))).toEqual([{ id: 'INC-7', description: 'INC-7' }]);
    expect(safetyEvents(clinicalModel({}, { annotations: { 'clinops.dev/safety-event': '  ' } }))).toEqual([]);
    expect(safetyEvents(clinicalModel())).toEqual([]);
  });
});

describe('status round trip', () => {
  it('keeps every field of the state through status.escalation, leaving out empty ones', () => {
    const policy = { consecutiveBreaches: 1, reviewWithinMs: { 1: 1000 }, cooldownMs: 10, historyLimit: 5 };
    const base = { safetyEvents: [], sha256: 'a'.repeat(64), policy };
    let s = nextEscalation(INITIAL_STATE, { ...base, now: 0, check: { driftLevel: 1, psi: 0.12, summary: 'moderate' } }).state;
    s = nextEscalation(s, { ...base, now: 1000, safetyEvents: [{ id: 'INC-1', description: 'harm' }] }).state;
    const status = statusFromState(s, undefined);
    expect(JSON.parse(JSON.stringify(status))).toEqual(status); // nothing undefined left in it
    expect(status).not.toHaveProperty('pending');
    expect(stateFromStatus(status)).toEqual(JSON.parse(JSON.stringify(s)));
    expect(stateFromStatus(undefined)).toEqual({ level: 0, history: [] });
    expect(statusFromState(INITIAL_STATE, undefined)).toEqual({ level: 0 });
  });

  it('reads an out-of-range level as 0 rather than trusting it', () => {
    expect(stateFromStatus({ level: 7 }).level).toBe(0);
  });
});
