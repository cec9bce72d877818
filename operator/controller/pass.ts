// What one reconcile pass works with. gather.ts reads the cluster once into an Observed value; each
// phase (phases/) is a pure function of that value and of the model as the phases before it left it,
// and returns its Outcome: the model's status after it, the actions to take, the Events to send and
// when to look again; act.ts does what the outcomes say. reconciler.ts runs the chain.
import type { ObservedJob, ObservedJobPod } from '../acceptance/gate.js';
import type { ClinicalModel, EscalationStatus, NotificationStatus } from '../api/types.js';
import type { EventReason } from '../api/reasons.js';
import type { Judgement } from '../drift/judge.js';
import type { DriftInput } from '../drift/input.js';
import type { DriftStatus } from '../api/types.js';
import type { EscalationRecord } from '../escalation/record.js';
import type { Revocation } from '../escalation/revocation.js';
import type { HistoryEntry } from '../governance/history.js';
import type { DueNotification } from '../governance/notify.js';
import type { ResourceRef } from '../kube/client.js';
import type { ShadowTotals } from '../rollout/rollout.js';
import type { ObservedPod } from '../serving/pods.js';
import type { ObservedDeployment } from './status.js';
import type { DicomReplicaCounts } from './replicas.js';

/** An object the operator made, as much of it as ownership and change detection need. */
export interface Owned {
  metadata?: { uid?: string; resourceVersion?: string; ownerReferences?: Array<{ uid: string; controller?: boolean }> };
}

/** Everything one pass reads, read once before any phase runs. */
export interface Observed {
  key: string;
  namespace: string;
  name: string;
  /** The pass's clock (ms). */
  now: number;
  /** A number in [0, 1) for the drift check's jitter. */
  random: number;
  /** The model as the cache holds it. */
  cr: ClinicalModel;
  /** The escalation record, looked for when status has no escalation and this process has not looked for this object's yet. */
  record?: { found?: EscalationRecord };
  /** The key the replicas' monitoring signals are read with. */
  monitoringKey: string;
  /** The last check this process ran, and the drift check's input when one is due. */
  drift: { lastCheck?: number; input?: DriftInput };
  /** The notification attempt this process made last (the cache may not show its status write yet). */
  notification?: NotificationStatus;
  /** The candidate's acceptance Job, when the declared version is still being accepted. */
  acceptance?: AcceptanceObserved;
  /** The rollout's pods and the serving replicas' shadow comparisons, when a rollout is declared or underway. */
  rollout?: RolloutObserved;
  /** The namespace's RevokedVersions for the versions this model could serve, by sha256. */
  revocations: ReadonlyMap<string, Revocation>;
  /** The replicas' PACS counts (spec.integration.dicom), read at most every DICOM_READ_MS. */
  dicom?: { totals: DicomReplicaCounts; read: number };
  /** A PACS model's ready replicas (serving and candidate), with the hold state each last confirmed to this process. */
  holdTargets?: HoldTarget[];
  /** The children as the caches hold them. */
  deployment?: ObservedDeployment & Owned;
  service?: Record<string, unknown> & Owned;
  autoscaler?: Record<string, unknown> & Owned;
  candidate?: ObservedDeployment & Owned;
}

export interface AcceptanceObserved {
  /** The image acceptance runs from (the operator's, never the spec's). */
  image: string;
  /** The Job recorded for the candidate (in status, or by this process until status shows it). */
  recorded?: { name: string; uid: string };
  /** That Job as the API server holds it now (absent: gone). */
  job?: ObservedJob;
  /** Its pods, by its controller uid. */
  pods: readonly ObservedJobPod[];
  /** The sha256 of a holdout kept in a ConfigMap. */
  holdoutSha256?: string;
}

export interface RolloutObserved {
  candidatePods: readonly ObservedPod[];
  /** The serving replicas (not the candidate's), not terminating. */
  servingPods: readonly ObservedPod[];
  /** What the serving replicas copied to the candidate, in Shadow. */
  shadow?: ShadowTotals;
  /** The reference's values, once enough copies were compared for a verdict. */
  reference?: readonly number[];
}

/** The model as the phases so far leave it, with what later phases need of earlier ones. */
export interface PassState {
  cr: ClinicalModel;
  /** status.drift or status.escalation changed in this pass. */
  escalated: boolean;
  /** What the candidate Deployment should be (the rollout phase says). */
  candidate: 'none' | 'shadow' | 'canary';
}

/** An Event (and a log line) about the model. `once`: said again only when its value changes. */
export interface Announce {
  type: 'Normal' | 'Warning';
  reason: EventReason;
  message: string;
  once?: { topic: string; value?: string };
  /** An Event only: the action it reports logged it already. */
  unlogged?: boolean;
}

/** One child to apply (desired) or delete (absent). */
export interface Child {
  kind: string;
  ref: ResourceRef;
  desired?: object;
  observed?: Owned;
}

/** A replica the operator holds or releases (POST /v1/monitoring/hold). */
export interface HoldTarget {
  /** Pod uid and restart count: a restarted server starts held again, so it is asked again. */
  id: string;
  pod: string;
  url: string;
  confirmed?: boolean;
}

export type Action =
  /** The escalation record (and on entering level 3 the RevokedVersion): before status says the level. */
  | { do: 'writeRecords'; before?: EscalationStatus; escalation: EscalationStatus }
  /** This process has looked for the model object's escalation record. */
  | { do: 'recordLooked' }
  /** What a judged check read is consumed; a changed level starts the window afresh. */
  | { do: 'commitCheck'; judgement: Judgement; reset: boolean }
  | { do: 'saveLabels' }
  /** The check's entry in the model's history record (for its reports). */
  | { do: 'recordHistory'; entry: HistoryEntry }
  /** The model's report of the period since `since`, into its ConfigMap (before status says it was written). */
  | { do: 'writeReport'; since: number }
  | { do: 'driftMetrics'; drift?: DriftStatus; level: number; judgement?: Judgement }
  | { do: 'reviewMetrics'; overdue: boolean }
  | { do: 'notify'; due: DueNotification; prev?: NotificationStatus }
  | { do: 'startAcceptance'; image: string }
  /** The candidate's Job is decided: this process stops remembering it. */
  | { do: 'acceptanceDone' }
  | { do: 'clearShadow' }
  /** Hold (a paused PACS model) or release these replicas; each confirmed is remembered. */
  | { do: 'hold'; held: boolean; reason: string; targets: HoldTarget[] }
  | {
    do: 'applyChildren'; children: Child[]; resize: { before?: number; after?: number; level: number };
    /**
     * An autoscaled Deployment left below the autoscaler's minimum (0 by a pause): set to it through the
     * scale subresource, after the children, so the HPA (which never scales from 0) takes over from there.
     */
    rescale?: { ref: ResourceRef; replicas: number };
  };

export interface Outcome {
  /** The pass after this phase (status so far, candidate, …). */
  pass?: Partial<PassState>;
  /** Run before the status write ("record before act": what status will say must exist first). */
  before?: Action[];
  /** Write status now, before this phase's actions. */
  record?: boolean;
  actions?: Action[];
  events?: Announce[];
  /** Topics of `once` Events to forget (their next one is said again). */
  forget?: string[];
  requeueAfterMs?: number;
  /** End the pass after this phase. */
  stop?: boolean;
  /** The pass cannot go on: status says why, then the key is retried (or not, when terminal). */
  fail?: { message: string; terminal: boolean };
}

export type Phase = (obs: Observed, pass: PassState) => Outcome;
