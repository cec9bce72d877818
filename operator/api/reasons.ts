// Every reason the operator's Events carry, in one catalogue (as the server keeps its messages in
// errors.ts): a reason is a stable CamelCase word that alerts, dashboards and runbooks match on, and a
// person reads the message beside it. An Event with a reason not listed here does not compile.

/** Waiting reasons the kubelet gives for a container that will not start by itself; passed on as they are. */
export const STUCK_POD_REASONS = [
  'CrashLoopBackOff', 'ErrImageNeverPull', 'ErrImagePull', 'ImagePullBackOff', 'InvalidImageName',
  'CreateContainerConfigError', 'CreateContainerError', 'RunContainerError',
] as const;

export const EVENT_REASONS = [
  // The children and the pods.
  'Created', 'Updated', 'ReconcileFailed', 'RecordConflict', 'Serving', 'Unschedulable', ...STUCK_POD_REASONS,
  // Drift, escalation and what follows it.
  'DriftDetected', 'PerformanceDip', 'Escalated', 'Acknowledged', 'AcknowledgementRefused', 'IncidentOpened', 'IncidentClosed',
  'EscalationRestored', 'Revoked', 'RevocationLifted', 'NotificationSent', 'NotificationFailed',
  // The gates before serving.
  'AcceptanceStarted', 'AcceptanceRestarted', 'Accepted', 'Rejected', 'AcceptanceError', 'Approved',
  // A rollout.
  'RolloutStarted', 'ShadowPassed', 'Promoting', 'Promoted', 'RolledBack',
  // The review cadence.
  'ReviewOverdue', 'Reviewed',
] as const;

export type EventReason = (typeof EVENT_REASONS)[number];

const KNOWN: ReadonlySet<string> = new Set(EVENT_REASONS);

/** A reason from elsewhere (the kubelet's) that the catalogue lists. */
export function isEventReason(reason: string): reason is EventReason {
  return KNOWN.has(reason);
}
