// Phase 10, integration: what the model's PACS path did (spec.integration.dicom), summed over the
// replicas read, into status.integration.dicom — written when a count changes, not at every read — and
// when to read again. No replica read (none ready: paused, starting) leaves the last counts standing.
import type { DicomIntegrationStatus } from '../../api/types.js';
import { DICOM_READ_MS } from '../replicas.js';
import type { Observed, Outcome, PassState } from '../pass.js';

export function integrationPhase(obs: Observed, pass: PassState): Outcome {
  if (!pass.cr.spec.integration?.dicom) return {};
  const requeue = { requeueAfterMs: DICOM_READ_MS + 500 };
  if (!obs.dicom || obs.dicom.read === 0) return requeue;
  const { totals, read } = obs.dicom;
  const before = pass.cr.status?.integration?.dicom;
  const latest = totals.failures[0];
  const counts = { received: totals.received, ignored: totals.ignored, duplicate: totals.duplicate, inferred: totals.inferred, delivered: totals.delivered, failed: totals.failed, pending: totals.pending, replicasRead: read };
  const same = before && Object.entries(counts).every(([k, v]) => before[k as keyof typeof counts] === v) && before.lastFailure === (latest?.reason ?? before.lastFailure);
  if (same) return requeue;
  const dicom: DicomIntegrationStatus = {
    ...counts,
    ...(latest ? { lastFailure: latest.reason, lastFailureTime: latest.at } : before?.lastFailure ? { lastFailure: before.lastFailure, ...(before.lastFailureTime ? { lastFailureTime: before.lastFailureTime } : {}) } : {}),
    updatedTime: new Date(obs.now).toISOString(),
  };
  return { ...requeue, pass: { cr: { ...pass.cr, status: { ...pass.cr.status, integration: { ...pass.cr.status?.integration, dicom } } } } };
}
