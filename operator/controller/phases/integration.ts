// Phase 10, integration: the model's PACS path (spec.integration.dicom).
//   The hold: a model whose level pauses it (or shuts it down) keeps its replicas held — they take
//   studies and send no result (the paused Deployment keeps one replica to take them) — and any other
//   level releases them. Every replica starts held (CLINOPS_START_HELD), so a replica this process has
//   not reached never sends a result; each ready replica not known to be in the wanted state is asked,
//   and asked again two seconds later until it confirms.
//   The counts: what the replicas did, summed over those read, into status.integration.dicom — written
//   when a count changes, not at every read — and when to read again. No replica read (none ready:
//   starting, shut down) leaves the last counts standing.
import { phaseAtLevel } from '../../api/levels.js';
import type { DicomIntegrationStatus } from '../../api/types.js';
import { DICOM_READ_MS } from '../replicas.js';
import type { Observed, Outcome, PassState } from '../pass.js';

/** Until every ready replica has confirmed its hold state, the next pass comes this soon. */
export const HOLD_RETRY_MS = 2000;

export function integrationPhase(obs: Observed, pass: PassState): Outcome {
  const { cr } = pass;
  if (!cr.spec.integration?.dicom) return {};
  const level = cr.status?.escalation?.level ?? 0;
  const held = phaseAtLevel(level, cr.spec.escalation) !== undefined;
  const unsure = (obs.holdTargets ?? []).filter((t) => t.confirmed !== held);
  const hold: Outcome = unsure.length > 0
    ? { actions: [{ do: 'hold', held, reason: `escalation level ${level}: ${cr.status?.escalation?.reason ?? 'no reason recorded'}`.slice(0, 300), targets: unsure }], requeueAfterMs: HOLD_RETRY_MS }
    : { requeueAfterMs: DICOM_READ_MS + 500 };
  if (!obs.dicom || obs.dicom.read === 0) return hold;
  const { totals, read } = obs.dicom;
  const before = cr.status?.integration?.dicom;
  const latest = totals.failures[0];
  const counts = {
    received: totals.received, ignored: totals.ignored, duplicate: totals.duplicate, inferred: totals.inferred, delivered: totals.delivered,
    failed: totals.failed, pending: totals.pending, waiting: totals.queued, heldReplicas: totals.held, replicasRead: read,
  };
  const same = before && Object.entries(counts).every(([k, v]) => before[k as keyof typeof counts] === v) && before.lastFailure === (latest?.reason ?? before.lastFailure);
  if (same) return hold;
  const dicom: DicomIntegrationStatus = {
    ...counts,
    ...(latest ? { lastFailure: latest.reason, lastFailureTime: latest.at } : before?.lastFailure ? { lastFailure: before.lastFailure, ...(before.lastFailureTime ? { lastFailureTime: before.lastFailureTime } : {}) } : {}),
    updatedTime: new Date(obs.now).toISOString(),
  };
  return { ...hold, pass: { cr: { ...cr, status: { ...cr.status, integration: { ...cr.status?.integration, dicom } } } } };
}
