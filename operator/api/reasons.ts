// Every reason the operator's Events and status conditions carry, in one catalogue each (as the server
// keeps its messages in errors.ts): a reason is a stable CamelCase word that alerts, dashboards and
// runbooks match on, and a person reads the message beside it. An Event or a condition with a reason
// not listed here does not compile.

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
  'ReviewOverdue', 'Reviewed', 'DecisionRecorded',
  // The PACS path.
  'HoldFailed',
] as const;

export type EventReason = (typeof EVENT_REASONS)[number];

/** The word a server's exit message starts with (`clinops serve --exit-on-load-failure`); Crashed for any other exit. */
export const SERVER_EXIT_REASONS = ['DigestMismatch', 'ModelRejected', 'LoadFailed', 'Crashed'] as const;

const LEVEL_ACTIONS = ['Alert', 'ScaleDown', 'Pause', 'Shutdown'] as const;
/** The Escalated condition's reason: the level and what it does (Level2Pause). */
export type LevelReason = `Level${1 | 2 | 3}${(typeof LEVEL_ACTIONS)[number]}`;
const LEVEL_REASONS = ([1, 2, 3] as const).flatMap((n) => LEVEL_ACTIONS.map((a): LevelReason => `Level${n}${a}`));

export const CONDITION_REASONS = [
  // Ready: serving, or why not (a stuck pod's waiting reason is passed on as the kubelet gives it).
  'AllReplicasReady', 'ReplicasNotReady', 'DeploymentPending', 'ScaledToZero', 'ProgressDeadlineExceeded', 'Unschedulable',
  ...STUCK_POD_REASONS, 'ApplyFailed', 'Revoked', 'Rejected', 'Accepting', 'AwaitingApproval', 'Paused', 'ShutDown',
  // PodsScheduled, ArtifactVerified, GPUAccelerated.
  'Scheduled', 'VerifiedByServer', 'NoReadyReplica', ...SERVER_EXIT_REASONS, 'CredentialsRejected', 'AccessDenied', 'ArtifactNotFound', 'FetchFailed', 'CUDA', 'CUDAUnavailable', 'NotReported',
  // Unauthenticated, RecordConflict.
  'AllowUnauthenticated', 'NotMadeByClinops',
  // DriftDetected, Escalated, ReviewOverdue.
  'NotChecked', 'InsufficientData', 'NoDrift', 'ModerateDrift', 'SignificantDrift', 'NotEscalated', ...LEVEL_REASONS,
  'Overdue', 'ReviewCurrent',
  // Accepted, Approved, RolledOut (the rollout's step).
  'NoAcceptance', 'Passed', 'AcceptanceError', 'SignedOff', 'AwaitingSignatures', 'Shadow', 'Canary', 'Promoting', 'Promoted', 'RolledBack',
] as const;

export type ConditionReason = (typeof CONDITION_REASONS)[number];

const CONDITION_KNOWN: ReadonlySet<string> = new Set(CONDITION_REASONS);

/** A reason from elsewhere (the kubelet's, the server's exit word) that the condition catalogue lists. */
export function isConditionReason(reason: string): reason is ConditionReason {
  return CONDITION_KNOWN.has(reason);
}

const KNOWN: ReadonlySet<string> = new Set(EVENT_REASONS);

/** A reason from elsewhere (the kubelet's) that the catalogue lists. */
export function isEventReason(reason: string): reason is EventReason {
  return KNOWN.has(reason);
}
