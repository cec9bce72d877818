// Rollout (pure): how a new version that passed its gates replaces the one serving, when spec.rollout
// asks for it. The candidate runs in a Deployment of its own (NAME-candidate) beside the serving one:
//   Shadow     — its pods are outside the model's Service; the serving replicas copy each prediction's
//                input to it after answering and compare the answers. A verdict once `requests` were
//                compared: label disagreement, label rates, confidence difference, and the candidate's
//                own confidences against the model's reference.
//   Canary     — its pods carry the model's selector labels, so the one Service sends them a share of
//                traffic (by replicas; no mesh); the model's own drift and performance checks read them
//                too. A rise in escalation or a drifted check meanwhile is a breach.
//   Promoting  — the candidate becomes the accepted version and its Deployment goes: the serving
//                Deployment rolls to it (its old pods answer until the new ones are ready); Promoted
//                once every serving replica runs it.
// Any breach — a failed verdict, the candidate's pods crashing or never ready, the model paused or shut
// down — is RolledBack: the candidate's Deployment goes, the version before never stopped serving, and
// the spec's sha256 is not tried again until it changes. Each step is recorded in status before it is
// acted on, so a restarted operator goes on from where the record says: no step repeated, none lost.
import type { ShadowReport } from '../../contract/monitoring.js';
import type { EventReason } from '../api/reasons.js';
import type { AcceptedModel, ClinicalModel, RolloutStatus, ShadowStatus } from '../api/types.js';
import { podProblem } from '../serving/pod-problems.js';
import { isReady, type ObservedPod, unschedulableMessage } from '../serving/pods.js';
import { inRollout } from '../serving/versions.js';
import { type Deployment, type DeploymentSettings, desiredDeployment } from '../desired/deployment.js';
import { LABEL_INSTANCE } from '../desired/labels.js';
import { judgeSignals } from '../drift/signals.js';
import { ks2samp } from '../../statistics/ks-2samp.js';
import { psi } from '../../statistics/psi.js';
import { parseDuration } from '../util/duration.js';

export const CANDIDATE_LABEL = 'clinops.dev/candidate-of';
const HISTORY = 10;
/** A candidate with no ready pod this long after its step began has failed. */
export const READY_WITHIN_MS = 5 * 60_000;

export function candidateName(model: string): string {
  return `${model}-candidate`;
}


const ACTIVE = new Set(['Shadow', 'Canary', 'Promoting']);

export function rolloutActive(r: RolloutStatus | undefined): r is RolloutStatus {
  return r !== undefined && ACTIVE.has(r.step);
}

/** What the serving replicas reported of their copies to the candidate, summed. */
export type ShadowTotals = Omit<ShadowReport, 'sha256' | 'active' | 'expiresAt'>;

export function sumShadow(reports: readonly Partial<ShadowTotals>[]): ShadowTotals {
  const t: ShadowTotals = { sent: 0, dropped: 0, failed: 0, compared: 0, agreed: 0, confidenceDifferenceSum: 0, labels: { serving: {}, candidate: {} }, confidences: [] };
  for (const r of reports) {
    t.sent += r.sent ?? 0;
    t.dropped += r.dropped ?? 0;
    t.failed += r.failed ?? 0;
    t.compared += r.compared ?? 0;
    t.agreed += r.agreed ?? 0;
    t.confidenceDifferenceSum += r.confidenceDifferenceSum ?? 0;
    for (const side of ['serving', 'candidate'] as const) {
      for (const [label, n] of Object.entries(r.labels?.[side] ?? {})) t.labels[side][label] = (t.labels[side][label] ?? 0) + n;
    }
    t.confidences.push(...(r.confidences ?? []));
    if (r.lastError) t.lastError = r.lastError;
  }
  return t;
}

export interface RolloutObservation {
  now: string;
  /** The candidate Deployment's pods. */
  candidatePods: readonly ObservedPod[];
  /** Every serving replica runs the declared sha256 and is ready (a promotion is complete). */
  servingCurrent: boolean;
  /** What the serving replicas said of their copies (read while in Shadow). */
  shadow?: ShadowTotals;
  /** The model's reference confidences, when it declares one. */
  reference?: readonly number[];
}

export interface RolloutEvent {
  type: 'Normal' | 'Warning';
  reason: EventReason;
  message: string;
}

export interface RolloutPass {
  /** status.rollout after this pass (undefined: leave it as it is). */
  rollout?: RolloutStatus;
  /** status.acceptance.accepted after a promotion. */
  accepted?: AcceptedModel;
  /** The step changed: write status before acting. */
  changed: boolean;
  events: RolloutEvent[];
  /** What the candidate Deployment should be. */
  candidate: 'none' | 'shadow' | 'canary';
  /** Set the shadow target on the serving replicas (Shadow), or clear it (just left Shadow). */
  shadowTarget: 'set' | 'clear' | 'none';
  requeueAfterMs?: number;
}

const pct = (x: number) => `${Number((x * 100).toPrecision(3))}%`;
const round = (x: number) => Number(x.toPrecision(4));

/** One pass of the rollout of the declared version, from status and what was observed. */
export function rolloutPass(cr: ClinicalModel, obs: RolloutObservation, gatesPassed: boolean): RolloutPass {
  const spec = cr.spec.rollout;
  const sha = cr.spec.model.sha256.toLowerCase();
  const r = cr.status?.rollout;
  const level = cr.status?.escalation?.level ?? 0;
  const none: RolloutPass = { changed: false, events: [], candidate: 'none', shadowTarget: 'none' };
  const { now } = obs;

  if (!inRollout(cr) || r?.sha256 !== sha) {
    if (rolloutActive(r)) {
      // The rollout underway is for a version the spec no longer asks for in a rollout.
      if (r.step === 'Promoting' && cr.status?.acceptance?.accepted?.sha256 === r.sha256) {
        if (!obs.servingCurrent) return { ...none, requeueAfterMs: 5000 };
        const message = `version ${r.version} promoted: every serving replica runs it (rollout began ${r.startedAt})`;
        return finish(r, 'Promoted', message, now, { type: 'Normal', reason: 'Promoted', message });
      }
      const message = r.sha256 === sha
        ? `rollout of version ${r.version} stopped: spec.rollout was removed, so it replaces version ${r.from.version} directly`
        : `rollout of version ${r.version} stopped: the spec now names version ${cr.spec.model.version}; version ${r.from.version} keeps serving until it passes its gates`;
      return { ...finish(r, 'RolledBack', message, now, { type: 'Warning', reason: 'RolledBack', message }), shadowTarget: r.step === 'Shadow' ? 'clear' : 'none', requeueAfterMs: 1 };
    }
    if (!inRollout(cr) || !gatesPassed || !spec) return none;
    const from = cr.status!.acceptance!.accepted!;
    if (level >= 2) {
      // A paused or shut-down model starts nothing; the record says why it waits.
      return none;
    }
    const step = spec.shadow ? 'Shadow' : 'Canary';
    const message = `version ${cr.spec.model.version} (sha256 ${sha.slice(0, 12)}…) rolls out ${spec.shadow ? 'in shadow' : 'as a canary'} beside version ${from.version}, which keeps serving`;
    const started: RolloutStatus = {
      sha256: sha, version: cr.spec.model.version, step, from: { sha256: from.sha256, version: from.version },
      startedAt: now, stepStartedAt: now, levelAtStep: level, message, history: cr.status?.rollout?.history ?? [],
    };
    if (!started.history?.length) delete started.history;
    return { rollout: started, changed: true, events: [{ type: 'Normal', reason: 'RolloutStarted', message }], candidate: step === 'Shadow' ? 'shadow' : 'canary', shadowTarget: 'none', requeueAfterMs: 1 };
  }

  // The declared version's rollout, as recorded.
  if (!rolloutActive(r)) return none; // Promoted or RolledBack: not tried again until the spec changes.
  const mode = r.step === 'Shadow' ? 'shadow' : 'canary';
  const rollback = (why: string, base: RolloutStatus = r): RolloutPass => {
    const message = `version ${r.version} rolled back in ${r.step.toLowerCase()}: ${why}; version ${r.from.version} keeps serving`;
    return { ...finish(base, 'RolledBack', message, now, { type: 'Warning', reason: 'RolledBack', message }), shadowTarget: r.step === 'Shadow' ? 'clear' : 'none' };
  };
  // The pods of this step: as a canary, those behind the Service (the shadow's go as the Deployment changes).
  const pods = r.step === 'Canary' ? obs.candidatePods.filter((p) => p.metadata?.labels?.[LABEL_INSTANCE] !== undefined) : obs.candidatePods;
  // (Promoting is handled above: the promoted version is the accepted one, so it is no longer in rollout.)
  if (!gatesPassed) return rollback('it no longer passes its gates (a go/no-go signature withdrawn?)');
  if (level >= 2) return rollback(`the model was ${level === 3 ? 'shut down' : 'paused'} at escalation level ${level}`);
  const health = candidateHealth(pods, Date.parse(now) - Date.parse(r.stepStartedAt));
  if (health) return rollback(health);
  switch (r.step) {
    case 'Shadow': {
      const s = spec!.shadow ?? {};
      const t = obs.shadow;
      const status = t ? shadowStatus(t, obs.reference, cr) : r.shadow;
      const want = s.requests ?? 200;
      if (t && t.failed >= 20 && t.failed > t.compared) return rollback(`${t.failed} of ${t.sent} copies got no answer from the candidate (${t.lastError ?? 'no error recorded'})`);
      if (!t || !status || status.compared < want) {
        const changedCounts = status !== undefined && JSON.stringify(status) !== JSON.stringify(r.shadow);
        return { ...none, ...(changedCounts ? { rollout: { ...r, shadow: status, message: `in shadow: ${status!.compared} of ${want} predictions compared` } } : {}), candidate: mode, shadowTarget: 'set', requeueAfterMs: 10_000 };
      }
      const breaches: string[] = [];
      const disagreement = 1 - (status.agreement ?? 1);
      if (disagreement > (s.maxDisagreement ?? 0.1)) breaches.push(`labels differ on ${pct(disagreement)} of ${status.compared} predictions (at most ${pct(s.maxDisagreement ?? 0.1)})`);
      if ((status.labelRateDifference ?? 0) > (s.maxLabelRateDifference ?? 0.05)) breaches.push(`a label's rate differs by ${pct(status.labelRateDifference!)} (at most ${pct(s.maxLabelRateDifference ?? 0.05)})`);
      if ((status.confidenceDifference ?? 0) > (s.maxConfidenceDifference ?? 0.1)) breaches.push(`confidences differ by ${round(status.confidenceDifference!)} on average (at most ${s.maxConfidenceDifference ?? 0.1})`);
      if (status.drift?.verdict === 'Significant') breaches.push(`its confidences drift from the reference (PSI ${status.drift.psi}, KS p ${status.drift.ksPValue})`);
      const withShadow = { ...r, shadow: status };
      if (breaches.length > 0) return rollback(breaches.join('; '), withShadow);
      const agreed = `agreed on ${pct(status.agreement ?? 1)} of ${status.compared} predictions, confidences within ${round(status.confidenceDifference ?? 0)}`;
      if (spec!.canary) {
        const message = `version ${r.version} passed its shadow (${agreed}); a canary of ${spec!.canary.replicas ?? 1} replica(s) for ${spec!.canary.duration ?? '10m'} follows`;
        return { rollout: { ...withShadow, step: 'Canary', stepStartedAt: now, levelAtStep: level, message }, changed: true, events: [{ type: 'Normal', reason: 'ShadowPassed', message }], candidate: 'canary', shadowTarget: 'clear', requeueAfterMs: 1 };
      }
      return promote(cr, withShadow, `version ${r.version} passed its shadow (${agreed}) and is promoted`, now, 'clear');
    }
    case 'Canary': {
      const c = spec!.canary ?? {};
      const d = cr.status?.drift;
      if (level > (r.levelAtStep ?? 0)) return rollback(`the model's escalation rose to level ${level} (${cr.status?.escalation?.reason ?? 'no reason recorded'})`);
      if (d?.lastCheckTime && Date.parse(d.lastCheckTime) > Date.parse(r.stepStartedAt) && (d.verdict === 'Moderate' || d.verdict === 'Significant')) {
        return rollback(`the drift check at ${d.lastCheckTime} found ${d.verdict.toLowerCase()} drift`);
      }
      const until = Date.parse(r.stepStartedAt) + parseDuration(c.duration ?? '10m');
      const left = until - Date.parse(now);
      const ready = pods.filter(isReady).length;
      if (left > 0 || ready < (c.replicas ?? 1)) return { ...none, candidate: 'canary', requeueAfterMs: Math.max(1000, Math.min(left, 15_000)) };
      return promote(cr, r, `version ${r.version} served as a canary from ${r.stepStartedAt} without a breach and is promoted`, now, 'none');
    }
  }
  return none;
}

function promote(cr: ClinicalModel, r: RolloutStatus, message: string, now: string, shadowTarget: 'clear' | 'none'): RolloutPass {
  const m = cr.spec.model;
  const c = cr.status?.acceptance?.candidate;
  const acceptedAt = c?.sha256 === r.sha256 && c.state === 'Passed' ? c.finishedAt ?? now : now;
  return {
    rollout: { ...r, step: 'Promoting', stepStartedAt: now, message },
    accepted: { sha256: r.sha256, version: m.version, uri: m.uri, acceptedAt, promotedAt: now },
    changed: true,
    events: [{ type: 'Normal', reason: 'Promoting', message }],
    // The candidate's pods go: the serving Deployment's old pods answer until its new ones are ready,
    // and its rolling update gets the room they held.
    candidate: 'none',
    shadowTarget,
    requeueAfterMs: 1,
  };
}

function finish(r: RolloutStatus, outcome: 'Promoted' | 'RolledBack', message: string, now: string, event?: RolloutEvent): RolloutPass {
  const history = [...(r.history ?? []), { sha256: r.sha256, version: r.version, outcome, at: now, reason: message }].slice(-HISTORY);
  return {
    rollout: { ...r, step: outcome, stepStartedAt: now, finishedAt: now, message, history },
    changed: true,
    events: event ? [event] : [],
    candidate: 'none',
    shadowTarget: 'none',
  };
}

/** Why the candidate's pods are failing, if they are: a stuck container, a restart, or none ready in time. */
export function candidateHealth(pods: readonly ObservedPod[], inStepMs: number): string | undefined {
  const stuck = podProblem(pods);
  if (stuck) return `its ${stuck.message}`;
  for (const p of pods) {
    const restarted = p.status?.containerStatuses?.find((c) => (c.restartCount ?? 0) > 0);
    if (restarted && !p.metadata?.deletionTimestamp) return `its pod ${p.metadata?.name ?? ''} restarted (${restarted.lastState?.terminated?.reason ?? 'exited'})`;
  }
  if (inStepMs > READY_WITHIN_MS && !pods.some(isReady)) {
    const why = unschedulableMessage(pods);
    return `no pod of it was ready within ${READY_WITHIN_MS / 60_000} minutes${why ? ` (${why})` : ''}`;
  }
  return undefined;
}

/** The shadow's figures for status: agreement, label rates, confidence difference, the candidate's drift. */
export function shadowStatus(t: ShadowTotals, reference: readonly number[] | undefined, cr: ClinicalModel): ShadowStatus {
  const s: ShadowStatus = { compared: t.compared, sent: t.sent, dropped: t.dropped, failed: t.failed };
  if (t.compared === 0) return s;
  s.agreement = round(t.agreed / t.compared);
  s.confidenceDifference = round(t.confidenceDifferenceSum / t.compared);
  const labels = new Set([...Object.keys(t.labels.serving), ...Object.keys(t.labels.candidate)]);
  s.labelRateDifference = round(Math.max(0, ...[...labels].map((l) => Math.abs((t.labels.candidate[l] ?? 0) - (t.labels.serving[l] ?? 0)) / t.compared)));
  const mon = cr.spec.monitoring ?? {};
  if (reference && reference.length > 0 && t.confidences.length >= Math.min(mon.minSamples ?? 200, cr.spec.rollout?.shadow?.requests ?? 200)) {
    const ks = ks2samp(reference as number[], t.confidences);
    const p = psi(reference as number[], t.confidences, mon.psi?.bins ?? 10);
    const j = judgeSignals([{ signal: 'confidence', kind: 'confidence', psi: p.psi, effect: ks.statistic, pValue: ks.pValue }], {
      psiModerate: mon.psi?.moderate ?? 0.1, psiSignificant: mon.psi?.significant ?? 0.2, ksPValue: mon.ks?.pValue ?? 0.05, ksMinStatistic: mon.ks?.minStatistic ?? 0.1,
    });
    s.drift = { verdict: j.verdict, psi: round(p.psi), ksStatistic: round(ks.statistic), ksPValue: Number(ks.pValue.toPrecision(3)) };
  }
  return s;
}

/**
 * The candidate's Deployment: the model's own, for the declared version, under a name and selector of
 * its own. In shadow its pods lack the model's instance label (outside the Service and the model's
 * checks); as a canary (and while promoting) they carry it and serve beside the serving version.
 */
export function candidateDeployment(cr: ClinicalModel, mode: 'shadow' | 'canary', settings: DeploymentSettings): Deployment {
  const name = cr.metadata.name;
  const replicas = cr.spec.rollout?.canary?.replicas ?? 1;
  const plain: ClinicalModel = { ...cr, spec: { ...cr.spec, serving: { ...cr.spec.serving, replicas } }, status: { ...cr.status, escalation: undefined } };
  const d = desiredDeployment(plain, settings);
  const template = d.spec.template as { metadata: { labels: Record<string, string> } };
  const labels: Record<string, string> = { ...template.metadata.labels, [CANDIDATE_LABEL]: name };
  if (mode === 'shadow') delete labels[LABEL_INSTANCE];
  const objectLabels: Record<string, string> = { ...d.metadata.labels, [CANDIDATE_LABEL]: name };
  delete objectLabels[LABEL_INSTANCE];
  return {
    ...d,
    metadata: { ...d.metadata, name: candidateName(name), labels: objectLabels },
    // Recreate: from shadow to canary its pod is replaced, not doubled (it serves no patient until then).
    spec: { ...d.spec, replicas, strategy: { type: 'Recreate' }, selector: { matchLabels: { [CANDIDATE_LABEL]: name } }, template: { ...template, metadata: { ...template.metadata, labels } } },
  };
}
