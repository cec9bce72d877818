// The observed status of a ClinicalModel, recomputed from scratch on every pass from what the
// caches hold: the resource, its Deployment and its pods. Nothing here is remembered between passes
// except each condition's lastTransitionTime.
import { jsonEqual } from '../util/json-equal.js';
import { acceptancePassed, approvalRequired, approvalShortfall, type Served, servedModel } from '../serving/versions.js';
import type { ClinicalModel, ClinicalModelStatus, Phase, ReviewStatus } from '../api/types.js';
import { levelPolicy, phaseAtLevel } from '../api/levels.js';
import { autoscalingBounds } from '../desired/autoscaler.js';
import { desiredReplicas } from '../desired/deployment.js';
import { selectorString } from '../desired/labels.js';
import { serviceEndpoint } from '../desired/service.js';
import { reviewOutcome } from '../governance/review.js';
import { decisionRecords } from '../escalation/decisions.js';
import { buildConditions, type ConditionInput } from './conditions.js';
import { fetchExit, podProblem, serverExit } from '../serving/pod-problems.js';
import type { ProviderReport } from './providers.js';
import { isReady, type ObservedPod, servesSha, unschedulableMessage } from '../serving/pods.js';
import type { ConditionReason } from '../api/reasons.js';

/** The ArtifactVerified reason for each word fetch-model fails with. */
const FETCH_REASONS: Record<string, ConditionReason> = { DigestMismatch: 'DigestMismatch', CredentialsRejected: 'CredentialsRejected', AccessDenied: 'AccessDenied', BadCredentials: 'CredentialsRejected', NotFound: 'ArtifactNotFound' };

export interface ObservedDeployment {
  metadata?: { generation?: number; annotations?: Record<string, string> };
  spec?: { replicas?: number };
  status?: {
    observedGeneration?: number;
    replicas?: number;
    readyReplicas?: number;
    updatedReplicas?: number;
    conditions?: Array<{ type: string; status: string; reason?: string; message?: string }>;
  };
}

export interface StatusInput {
  cr: ClinicalModel;
  deployment: ObservedDeployment | undefined;
  pods: readonly ObservedPod[];
  /** Why the last apply of the children failed, if it did. */
  applyError?: string;
  /** What the ready replicas of a GPU model said they run on (see providers.ts). */
  providers?: readonly ProviderReport[];
  /** Why the served version may not serve: it is revoked in the namespace. */
  revoked?: string;
  /** Objects in the way of the operator's records, each said in full (RecordConflict). */
  conflicts?: readonly string[];
  now: string;
}

export function computeStatus(input: StatusInput): ClinicalModelStatus {
  const { cr, deployment, pods, applyError, now } = input;
  const generation = cr.metadata.generation;
  // With an autoscaler, what it asks of the Deployment (within its bounds); else the spec's, as the level allows.
  const bounds = autoscalingBounds(cr, input.revoked !== undefined);
  const want = bounds ? Math.min(bounds.max, Math.max(bounds.min, deployment?.spec?.replicas ?? bounds.min)) : desiredReplicas(cr);
  const level = cr.status?.escalation?.level ?? 0;
  const imposed = phaseAtLevel(level, cr.spec.escalation);
  const replicas = deployment?.status?.replicas ?? 0;
  const ready = deployment?.status?.readyReplicas ?? 0;
  const unschedulable = unschedulableMessage(pods);
  const problem = podProblem(pods);
  const progress = deployment?.status?.conditions?.find((c) => c.type === 'Progressing');
  const stuck = progress?.status === 'False' && progress.reason === 'ProgressDeadlineExceeded';

  let phase: Phase;
  let readyCond: ConditionInput;
  const served = servedModel(cr);
  const candidate = cr.status?.acceptance?.candidate;
  if (applyError) {
    phase = 'Failed';
    readyCond = { type: 'Ready', status: 'False', reason: 'ApplyFailed', message: applyError };
  } else if (input.revoked) {
    phase = 'ShutDown';
    readyCond = { type: 'Ready', status: 'False', reason: 'Revoked', message: input.revoked };
  } else if (!served) {
    // Nothing has passed the gates yet: the candidate is being accepted, failed, or awaits its sign-off.
    const failed = candidate?.sha256 === cr.spec.model.sha256.toLowerCase() && (candidate.state === 'Failed' || candidate.state === 'Error');
    const { version } = cr.spec.model;
    if (failed) {
      phase = 'Rejected';
      readyCond = { type: 'Ready', status: 'False', reason: 'Rejected', message: `version ${version} failed acceptance and no version has passed: nothing serves` };
    } else if (!acceptancePassed(cr)) {
      phase = 'Accepting';
      readyCond = { type: 'Ready', status: 'False', reason: 'Accepting', message: `version ${version} is being accepted; it serves once it passes` };
    } else {
      phase = 'AwaitingApproval';
      readyCond = { type: 'Ready', status: 'False', reason: 'AwaitingApproval', message: `version ${version} waits for its go/no-go sign-off: ${shortfallText(cr)}` };
    }
  } else if (!deployment) {
    phase = 'Deploying';
    readyCond = { type: 'Ready', status: 'False', reason: 'DeploymentPending', message: 'the inference Deployment does not exist yet' };
  } else if (imposed) {
    phase = imposed;
    readyCond = { type: 'Ready', status: 'False', reason: imposed === 'ShutDown' ? 'ShutDown' : 'Paused',
      message: `escalation level ${level}: ${cr.status?.escalation?.reason ?? 'no reason recorded'}; ${imposed === 'Paused' && cr.spec.integration?.dicom
        ? 'one replica holds the studies the PACS sends (status.integration.dicom.waiting) and sends no result until a reviewer\'s acknowledgement resumes it'
        : 'a reviewer\'s acknowledgement resumes it'}` };
  } else if (want === 0) {
    phase = 'Paused';
    readyCond = { type: 'Ready', status: 'False', reason: 'ScaledToZero', message: 'spec.serving.replicas is 0' };
  } else if (stuck) {
    phase = 'Failed';
    readyCond = { type: 'Ready', status: 'False', reason: 'ProgressDeadlineExceeded', message: progress?.message ?? 'the rollout made no progress' };
  } else {
    phase = ready === 0 ? 'Deploying' : ready < want ? 'Degraded' : 'Serving';
    const counts = `${ready}/${want} replicas ready`;
    readyCond = ready >= want
      ? { type: 'Ready', status: 'True', reason: 'AllReplicasReady', message: counts }
      : unschedulable
        ? { type: 'Ready', status: 'False', reason: 'Unschedulable', message: `${counts}; ${unschedulable}` }
        : problem
          ? { type: 'Ready', status: 'False', reason: problem.reason, message: `${counts}; ${problem.message}` }
          : { type: 'Ready', status: 'False', reason: 'ReplicasNotReady', message: counts };
  }

  const conditions: ConditionInput[] = [readyCond];
  if (deployment && want > 0) {
    conditions.push(unschedulable
      ? { type: 'PodsScheduled', status: 'False', reason: 'Unschedulable', message: unschedulable }
      : { type: 'PodsScheduled', status: 'True', reason: 'Scheduled', message: 'every pod has a node' });
  }
  const sha = served?.sha256 ?? cr.spec.model.sha256.toLowerCase();
  const current = pods.filter((p) => servesSha(p, sha));
  const exit = serverExit(current);
  const fetched = fetchExit(current);
  conditions.push(current.some(isReady)
    ? { type: 'ArtifactVerified', status: 'True', reason: 'VerifiedByServer', message: `a ready replica verified sha256 ${sha.slice(0, 12)}… before loading` }
    : exit?.reason === 'DigestMismatch'
      ? { type: 'ArtifactVerified', status: 'False', reason: 'DigestMismatch', message: exit.message }
      : fetched
        // The model could not be fetched: why, in the word fetch-model gave (never a credential).
        ? { type: 'ArtifactVerified', status: 'False', reason: FETCH_REASONS[fetched.word] ?? 'FetchFailed', message: `${fetched.word}: ${fetched.message}` }
        : { type: 'ArtifactVerified', status: 'Unknown', reason: 'NoReadyReplica', message: 'no ready replica serves this sha256 yet' });

  const gpu = (cr.spec.serving?.gpu?.count ?? 0) > 0;
  if (gpu) conditions.push(acceleratedCondition(input.providers ?? []));
  conditions.push(driftCondition(cr, Date.parse(now)), escalatedCondition(cr), acceptedCondition(cr, served));
  if (approvalRequired(cr)) conditions.push(approvedCondition(cr, served));
  if (cr.status?.rollout) conditions.push(rolloutCondition(cr));
  const { review } = reviewOutcome(cr, Date.parse(now));
  if (review?.dueBy) conditions.push(reviewCondition(review));
  if (!cr.spec.serving?.apiKeySecretRef && cr.spec.serving?.allowUnauthenticated) {
    conditions.push({ type: 'Unauthenticated', status: 'True', reason: 'AllowUnauthenticated',
      message: 'served without API keys (spec.serving.allowUnauthenticated): anyone who can reach the Service may predict' });
  }
  if (input.conflicts?.length) conditions.push({ type: 'RecordConflict', status: 'True', reason: 'NotMadeByClinops', message: input.conflicts.join('; ') });

  const status: ClinicalModelStatus = {
    phase,
    observedGeneration: generation,
    replicas,
    desiredReplicas: want,
    readyReplicas: ready,
    selector: selectorString(cr.metadata.name),
    endpoint: serviceEndpoint(cr),
    conditions: buildConditions(cr.status?.conditions, conditions, generation, now),
  };
  const active = [...new Set((input.providers ?? []).map((p) => p.active))];
  if (gpu && active.length > 0) status.executionProvider = active.length === 1 ? active[0] : 'mixed';
  // The drift and escalation state is carried over as the escalation step left it on the object.
  if (cr.status?.drift) status.drift = cr.status.drift;
  if (cr.status?.escalation) status.escalation = cr.status.escalation;
  if (review) status.review = review;
  if (cr.status?.notification) status.notification = cr.status.notification;
  if (cr.status?.acceptance) status.acceptance = cr.status.acceptance;
  if (cr.status?.approval) status.approval = cr.status.approval;
  if (cr.status?.rollout) status.rollout = cr.status.rollout;
  if (cr.status?.report) status.report = cr.status.report;
  if (cr.status?.integration) status.integration = cr.status.integration;
  const decisions = decisionRecords(cr, now);
  if (decisions) status.decisions = decisions;
  if (generation === undefined) delete status.observedGeneration;
  return status;
}

/** GPUAccelerated, for models that ask for GPUs: do their ready replicas really run on CUDA? */
function acceleratedCondition(reports: readonly ProviderReport[]): ConditionInput {
  const cpu = reports.filter((r) => r.active !== 'cuda');
  if (cpu.length > 0) {
    const first = cpu[0]!;
    return { type: 'GPUAccelerated', status: 'False', reason: 'CUDAUnavailable',
      message: `${cpu.length} of ${reports.length} reporting replicas serve on ${first.active}, not CUDA (pod ${first.pod}${first.note ? `: ${first.note}` : ''}); predictions are correct but slower` };
  }
  if (reports.length > 0) {
    return { type: 'GPUAccelerated', status: 'True', reason: 'CUDA', message: `${reports.length} ready replicas serve on CUDA` };
  }
  return { type: 'GPUAccelerated', status: 'Unknown', reason: 'NotReported', message: 'no ready replica has reported its execution provider yet' };
}

/** Who accepted drift, until when, when an Accept decision is in force. */
function acceptedText(cr: ClinicalModel, now: number): string | undefined {
  const d = (cr.spec.governance?.decisions ?? []).find((x) => x.finding === 'Drift' && x.decision === 'Accept' && x.until && Date.parse(x.until) > now);
  return d ? `accepted by ${d.reviewer} until ${d.until}: ${d.reason}` : undefined;
}

function driftCondition(cr: ClinicalModel, now: number): ConditionInput {
  const d = cr.status?.drift;
  const drivers = (d?.signals ?? []).map((s) => `${s.name} (PSI ${s.psi}, ${s.kind === 'labels' ? 'total variation' : 'KS D'} ${s.statistic}, p ${s.pValue})`);
  const numbers = (d?.psi !== undefined && d.ks ? `PSI ${d.psi}, KS D ${d.ks.statistic} (p ${d.ks.pValue}) over ${d.samples} predictions` : '') +
    (d?.features ? `, ${d.features} features tested` : '') + (drivers.length > 0 ? `; drifted: ${drivers.join(', ')}` : '');
  switch (d?.verdict) {
    case undefined:
      return { type: 'DriftDetected', status: 'Unknown', reason: 'NotChecked',
        message: `no drift check has run yet; one runs every ${cr.spec.monitoring?.interval ?? '5m'}` };
    case 'InsufficientData':
      return { type: 'DriftDetected', status: 'Unknown', reason: 'InsufficientData', message: d.message ?? 'too few predictions' };
    case 'NoDrift':
      return { type: 'DriftDetected', status: 'False', reason: 'NoDrift', message: numbers };
    case 'Moderate':
      return { type: 'DriftDetected', status: 'True', reason: 'ModerateDrift', message: `${numbers}; ${acceptedText(cr, now) ?? 'investigate'}` };
    case 'Significant':
      return { type: 'DriftDetected', status: 'True', reason: 'SignificantDrift', message: `${numbers}; act` };
  }
}

function reviewCondition(r: ReviewStatus): ConditionInput {
  const last = r.lastReviewedAt ? `last reviewed ${r.lastReviewedAt} by ${r.reviewedBy}` : 'never reviewed';
  return r.overdue
    ? { type: 'ReviewOverdue', status: 'True', reason: 'Overdue',
      message: `${r.dueFor} was due by ${r.dueBy} (${last}): a named reviewer records one in spec.governance.review` }
    : { type: 'ReviewOverdue', status: 'False', reason: 'ReviewCurrent', message: `${r.dueFor} is due by ${r.dueBy} (${last})` };
}

function escalatedCondition(cr: ClinicalModel): ConditionInput {
  const e = cr.status?.escalation;
  const level = e?.level ?? 0;
  if (level === 0) {
    return { type: 'Escalated', status: 'False', reason: 'NotEscalated',
      message: e?.acknowledgedBy ? `last acknowledged by ${e.acknowledgedBy}` : 'no escalation' };
  }
  const action = levelPolicy(cr.spec.escalation, level)?.action ?? 'Alert';
  const due = e?.reviewDueBy ? `; review due by ${e.reviewDueBy}` : '';
  const back = level === 3
    ? '; to resume, deploy a new model version (spec.model.sha256) and acknowledge level 3'
    : `; to resume, acknowledge level ${level} in spec.escalation.acknowledgement`;
  return { type: 'Escalated', status: 'True', reason: `Level${level as 1 | 2 | 3}${action}`, message: `${e?.reason ?? ''}${due}${back}` };
}

/**
 * The status fields this operator owns, taken from a status read from the server, for comparison
 * with a freshly computed one (fields owned by later features are left out of the comparison).
 */
export function statusChanged(current: ClinicalModelStatus | undefined, next: ClinicalModelStatus): boolean {
  const cur = (current ?? {}) as Record<string, unknown>;
  return Object.entries(next).some(([k, v]) => !jsonEqual(cur[k], v));
}

/** Accepted: whether the declared version passed clinical acceptance, and what serves meanwhile. */
function acceptedCondition(cr: ClinicalModel, served: Served | undefined): ConditionInput {
  const { version } = cr.spec.model;
  const sha = cr.spec.model.sha256.toLowerCase();
  if (!cr.spec.acceptance) {
    return { type: 'Accepted', status: 'False', reason: 'NoAcceptance', message: 'no spec.acceptance: this version was never accepted on a labelled holdout' };
  }
  const a = cr.status?.acceptance;
  const c = a?.candidate?.sha256 === sha ? a.candidate : undefined;
  const meanwhile = served && served.sha256 !== sha ? `version ${served.version} (sha256 ${served.sha256.slice(0, 12)}…) keeps serving` : 'nothing serves';
  if (a?.accepted?.sha256 === sha || c?.state === 'Passed') {
    const at = a?.accepted?.sha256 === sha ? a.accepted.acceptedAt : c?.finishedAt;
    return { type: 'Accepted', status: 'True', reason: 'Passed', message: `version ${version} passed acceptance${c?.cases ? ` on ${c.cases} cases` : ''}${at ? ` at ${at}` : ''}` };
  }
  if (c?.state === 'Failed') return { type: 'Accepted', status: 'False', reason: 'Rejected', message: `version ${version} failed acceptance: ${c.message}; ${meanwhile}` };
  if (c?.state === 'Error') return { type: 'Accepted', status: 'False', reason: 'AcceptanceError', message: `version ${version} could not be accepted: ${c.message}; ${meanwhile}` };
  return { type: 'Accepted', status: 'Unknown', reason: 'Accepting', message: `version ${version} is being accepted${c?.job ? ` (Job ${c.job})` : ''}; ${meanwhile} until it passes` };
}

/** Rollout: the last candidate's step — True once promoted, False when rolled back, Unknown while underway. */
function rolloutCondition(cr: ClinicalModel): ConditionInput {
  const r = cr.status!.rollout!;
  const status = r.step === 'Promoted' ? 'True' : r.step === 'RolledBack' ? 'False' : 'Unknown';
  return { type: 'RolledOut', status, reason: r.step, message: r.message ?? `version ${r.version}: ${r.step}` };
}

/** Approved: every go/no-go item signed for the declared sha256, by whom; or what is missing. */
function approvedCondition(cr: ClinicalModel, served: Served | undefined): ConditionInput {
  const { version } = cr.spec.model;
  const sha = cr.spec.model.sha256.toLowerCase();
  const missing = approvalShortfall(cr);
  if (missing.length === 0) {
    const by = [...new Set((cr.spec.approval?.signatures ?? []).filter((x) => x.sha256.toLowerCase() === sha).map((x) => x.signedBy))];
    return { type: 'Approved', status: 'True', reason: 'SignedOff', message: `version ${version} signed off by ${by.join(', ')}` };
  }
  const meanwhile = served && served.sha256 !== sha ? `version ${served.version} keeps serving` : 'nothing serves';
  return { type: 'Approved', status: 'False', reason: 'AwaitingSignatures', message: `version ${version} (sha256 ${sha.slice(0, 12)}…) is not signed off: ${shortfallText(cr)}; ${meanwhile}` };
}

/** "performance-validation unsigned, go-no-go signed by dr-lee; needs 2 different people" */
function shortfallText(cr: ClinicalModel): string {
  return approvalShortfall(cr).map((x) => `${x.item} ${x.lacks}`).join(', ');
}
