// Phase 9, report: every spec.governance.reportEvery (at least an hour) the model's report of that period
// is written into its ConfigMap NAME-report — before status records it, so status never names a report
// that is not there. The next one is due a period after the last.
import { reportName } from '../../governance/report/data.js';
import { parseDuration } from '../../util/duration.js';
import { rfc3339 } from '../../util/time.js';
import type { Observed, Outcome, PassState } from '../pass.js';

export const MIN_REPORT_EVERY_MS = 3_600_000;

export function reportPhase(obs: Observed, pass: PassState): Outcome {
  const { cr } = pass;
  const every = cr.spec.governance?.reportEvery;
  if (!every) return {};
  let period: number;
  try {
    period = Math.max(MIN_REPORT_EVERY_MS, parseDuration(every));
  } catch {
    return {}; // the CRD's pattern refuses it; this only guards an object written before that rule
  }
  const last = cr.status?.report?.writtenAt ? Date.parse(cr.status.report.writtenAt) : NaN;
  const due = Number.isNaN(last) ? obs.now : last + period;
  if (due > obs.now) return { requeueAfterMs: due - obs.now + 1000 };
  const since = obs.now - period;
  const report = { writtenAt: rfc3339(obs.now), configMap: reportName(obs.name), since: rfc3339(since) };
  return {
    pass: { cr: { ...cr, status: { ...cr.status, report } } },
    before: [{ do: 'writeReport', since }],
    record: true,
    requeueAfterMs: period,
  };
}
