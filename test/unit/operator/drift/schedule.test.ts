import type { ClinicalModel } from '../../../../operator/api/types.js';
import { checkDue, monitoringIntervalMs, nextCheckDue } from '../../../../operator/drift/schedule.js';
import { clinicalModel } from '../fixtures.js';

const T0 = Date.parse('2026-11-21T12:00:00Z');
const cr = (status: ClinicalModel['status'] = {}, interval = '60s'): ClinicalModel =>
  ({ ...clinicalModel({ monitoring: { interval } }, { creationTimestamp: '2026-11-21T11:00:00Z' }), status });

describe('the drift check schedule', () => {
  it('is one interval after the last check, from status or from this process, else after creation', () => {
    expect(nextCheckDue(cr(), undefined)).toBe(Date.parse('2026-11-21T11:01:00Z'));
    expect(nextCheckDue(cr({ drift: { lastCheckTime: '2026-11-21T11:59:30Z' } }), undefined)).toBe(T0 + 30_000);
    expect(nextCheckDue(cr({ drift: { lastCheckTime: '2026-11-21T11:59:30Z' } }), T0)).toBe(T0 + 60_000);
  });

  it('counts a check a moment early as due (requeues fire late, never early), but not one seconds early', () => {
    const last = cr({ drift: { lastCheckTime: '2026-11-21T11:59:00Z' } });
    expect(checkDue(last, undefined, T0 - 100)).toBe(true);
    expect(checkDue(last, undefined, T0 - 5000)).toBe(false);
  });

  it('reads the interval, falling back to five minutes for one the CRD would have refused', () => {
    expect(monitoringIntervalMs(cr({}, '90s'))).toBe(90_000);
    expect(monitoringIntervalMs(cr({}, 'soon'))).toBe(300_000);
  });
});
