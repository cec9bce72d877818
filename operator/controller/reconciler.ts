// One reconcile pass of one ClinicalModel, by key: gather what the caches hold, decide the desired
// children and status with pure functions, then act — apply only what differs, write status only
// when it changed. Level-triggered: the pass never looks at the event that queued the key.
import type { ClinicalModel, ClinicalModelStatus, EscalationStatus, NotificationStatus } from '../api/types.js';
import { isEventReason } from '../api/reasons.js';
import { GROUP, KIND, PLURAL, VERSION } from '../api/types.js';
import { createHash, randomBytes } from 'node:crypto';
import { type DeploymentSettings, desiredDeployment, ServingSpecError } from '../desired/deployment.js';
import { FIELD_MANAGER, LABEL_INSTANCE } from '../desired/labels.js';
import { CARD_DIGEST_ANNOTATION, desiredModelCard } from '../desired/model-card.js';
import { ModelUriError } from '../desired/model-uri.js';
import { desiredMonitoringSecret, MONITORING_KEY, MONITORING_PORT, monitoringKeyName, monitoringKeyOf } from '../desired/monitoring-key.js';
import { desiredService, serviceHost } from '../desired/service.js';
import { isOperatorRecord, RecordConflictError, type RecordMeta } from '../desired/records.js';
import { tlsFetch } from '../kube/tls-fetch.js';
import { judge } from '../drift/judge.js';
import { parseRecord, RECORD_LABEL, recordConfigMap, recordName, restoredEscalation } from '../escalation/record.js';
import { REVOKED_VERSIONS, type RevokedVersion, revokedMessage, revokedVersion } from '../escalation/revocation.js';
import type { Revocation } from '../escalation/revocation.js';
import { escalationStep } from '../escalation/step.js';
import { acceptanceJob, asServed, jobResult, nextAcceptance, type ObservedJob, type ObservedJobPod, settleGates } from '../acceptance/gate.js';
import { servedModel, gated, servable } from '../serving/versions.js';
import { CANDIDATE_LABEL, candidateDeployment, candidateName, rolloutPass, sumShadow, type ShadowTotals } from '../rollout/rollout.js';
import { inRollout } from '../serving/versions.js';
import { desiredReplicas } from '../desired/deployment.js';
import { afterAttempt, type DueNotification, escalationEvent, notificationDue, NOTIFY_TOKEN_LABEL } from '../governance/notify.js';
import { DEFAULT_NOTIFY_POLICY, type NotifyPolicy, sendEvent } from '../governance/notify-send.js';
import { reviewOutcome } from '../governance/review.js';
import { ApiError, type KubeClient, type ResourceRef } from '../kube/client.js';
import { difference } from '../kube/difference.js';
import type { EventRecorder } from '../kube/events.js';
import type { Logger } from '../../contract/log.js';
import type { ShadowReport } from '../../contract/monitoring.js';
import type { DriftGatherer } from '../gathering/gatherer.js';
import { checkDue, nextCheckDue } from '../drift/schedule.js';
import type { DriftMetrics } from '../observability/metrics.js';
import { jsonEqual } from '../util/json-equal.js';
import { mergePatch } from '../util/merge-patch.js';
import { rfc3339 } from '../util/time.js';
import { STUCK_REASONS } from '../serving/pod-problems.js';
import type { ProviderReports } from './providers.js';
import { computeStatus, type ObservedDeployment, statusChanged } from './status.js';
import { isReady, type ObservedPod, servesSha } from '../serving/pods.js';
import { jsonWithin } from '../util/json-within.js';

/** What the reconciler reads: the informers' caches. */
export interface Caches {
  model(namespace: string, name: string): ClinicalModel | undefined;
  /** A version revoked in a namespace (its RevokedVersion, named after the sha256), if it is. */
  revokedVersion(namespace: string, sha256: string): Revocation | undefined;
  deployment(namespace: string, name: string): (ObservedDeployment & Owned) | undefined;
  service(namespace: string, name: string): (Record<string, unknown> & Owned) | undefined;
  pods(namespace: string, instance: string): readonly ObservedPod[];
  /** The pods of a model's candidate Deployment (spec.rollout). */
  candidatePods(namespace: string, model: string): readonly ObservedPod[];
}

interface Owned {
  metadata?: { uid?: string; resourceVersion?: string; ownerReferences?: Array<{ uid: string; controller?: boolean }> };
}

export interface ReconcilerDeps {
  client: KubeClient;
  caches: Caches;
  settings: DeploymentSettings;
  recorder: EventRecorder;
  log: Logger;
  clock: () => number;
  onWrite: (resource: string) => void;
  gatherer: DriftGatherer;
  /** Explicit monitoring URLs per model key, instead of its pods' IPs (local development). */
  modelEndpoints: ReadonlyMap<string, readonly string[]>;
  driftMetrics: DriftMetrics;
  /** What GPU models' replicas run on, read from their readiness answers in the background. */
  providers: ProviderReports;
  random?: () => number;
  /** fetch for the pods' monitoring port (shadow targets). */
  fetchFn?: typeof fetch;
  /** How far the retraining signal (spec.governance.notify) may reach. */
  notifyPolicy?: NotifyPolicy;
}

/** The status on the server moved on since the cache's copy; the pass runs again on fresher data. */
export class StaleCacheError extends Error {
  constructor(key: string) {
    super(`status of ${key} changed since it was read; retrying with the newer object`);
    this.name = 'StaleCacheError';
  }
}

export interface Result {
  /** Run the key again after this many ms (controller-runtime's RequeueAfter). */
  requeueAfterMs?: number;
}

/** An error that retrying cannot fix; the key is not requeued until the object changes. */
export class TerminalError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TerminalError';
  }
}

interface Change {
  kind: string;
  name: string;
  verb: 'created' | 'updated' | 'deleted';
}

const DEPLOYMENTS = { group: 'apps', version: 'v1', plural: 'deployments' };
const SERVICES = { group: '', version: 'v1', plural: 'services' };
const CONFIGMAPS = { group: '', version: 'v1', plural: 'configmaps' };
const SECRETS = { group: '', version: 'v1', plural: 'secrets' };

export class Reconciler {
  constructor(private readonly deps: ReconcilerDeps) {}

  /** Acknowledgements already refused with an Event, so a retry does not repeat it. */
  private readonly refused = new Set<string>();
  /** The model object (uid) whose escalation record this process has looked for, by key. */
  private readonly recordsRead = new Map<string, string>();
  /** Each model's monitoring key, with the model object (uid) it was read for. */
  private readonly monitoringKeys = new Map<string, { uid: string; key: string }>();
  /** Acceptance verdicts announced with an Event, so a pass repeating before status shows them says nothing twice. */
  private readonly announced = new Set<string>();
  /** HTTPS models' fetch for their pods, with the TLS Secret's resourceVersion it was made from. */
  private readonly podFetchers = new Map<string, { id: string; fetch: typeof fetch }>();
  /** The last notification attempt this process made, by key (ahead of the cache until its write shows). */
  private readonly notified = new Map<string, NotificationStatus>();
  /** Objects in the way of a model's records, by key and object: the message its status carries. */
  private readonly conflicts = new Map<string, Map<string, string>>();
  /** Why a model's served version may not serve (revoked), by key. */
  private readonly revoked = new Map<string, string>();
  /** Lifted revocations already announced, by "namespace/name sha256". */
  private readonly liftsSeen = new Set<string>();
  /** Acceptance Jobs this process made, by "namespace/name sha256", until status records them. */
  private readonly acceptanceJobs = new Map<string, { name: string; uid: string }>();

  async reconcile(key: string): Promise<Result> {
    const [namespace, name] = splitKey(key);
    const { caches, log } = this.deps;
    let cr = caches.model(namespace, name);
    if (!cr || cr.metadata.deletionTimestamp) {
      // Gone or going: the garbage collector removes the children through their owner references.
      this.deps.gatherer.forget(key);
      this.deps.providers.forget(key);
      this.deps.driftMetrics.forget(namespace, name);
      this.recordsRead.delete(key);
      this.monitoringKeys.delete(key);
      this.notified.delete(key);
      this.podFetchers.delete(key);
      for (const k of this.refused) if (k.startsWith(`${key} `)) this.refused.delete(k);
      for (const k of this.acceptanceJobs.keys()) if (k.startsWith(`${key} `)) this.acceptanceJobs.delete(k);
      this.conflicts.delete(key);
      this.revoked.delete(key);
      for (const k of this.liftsSeen) if (k.startsWith(`${key} `)) this.liftsSeen.delete(k);
      return {};
    }
    const objLog = log.child({ kind: KIND, namespace, name });

    // A model without an escalation in its status (new, or re-created after a delete) starts from its
    // escalation record, if one outlived an earlier object of the same name.
    const uid = cr.metadata.uid;
    if (!cr.status?.escalation && uid && this.recordsRead.get(key) !== uid) {
      const found = await this.deps.client.get<RecordMeta & { data?: Record<string, string> }>({ ...CONFIGMAPS, namespace, name: recordName(name) }, { fromCache: true });
      // Only the operator's own record (labelled for this model: the admission policy lets nobody else write one).
      const cm = found && !this.recordConflict(cr, 'ConfigMap', recordName(name), found?.metadata?.labels?.[RECORD_LABEL] === name, "the model's escalation record") ? found : undefined;
      const record = cm ? parseRecord(cm.data) : undefined;
      if (cm && !record) objLog.warn('escalation record unreadable; starting at level 0', { configMap: recordName(name) });
      const restored = record ? restoredEscalation(cr, record) : undefined;
      if (restored) {
        const observed = cr.status;
        cr = { ...cr, status: { ...cr.status, escalation: restored.escalation } };
        await this.writeStatus(cr, undefined, observed);
        objLog.warn(restored.message, { reason: 'EscalationRestored' });
        void this.deps.recorder.record(cr, 'Warning', 'EscalationRestored', restored.message);
      }
      this.recordsRead.set(key, uid);
    }

    // The key the monitoring signals are read with: before the check that reads them and the pods that mount it.
    const keyed = cr;
    const monitoringKey = await this.monitoringKey(keyed, objLog).catch(async (err: unknown) => {
      if (!(err instanceof RecordConflictError)) throw err;
      // Someone else's Secret in the key's place: said in status and once as an Event, retried with backoff.
      if (await this.writeStatus(keyed, err.message, keyed.status).catch(() => false)) void this.deps.recorder.record(keyed, 'Warning', 'RecordConflict', err.message);
      throw err;
    });

    // Drift and escalation first: the level decides the Deployment's size. A changed level is written
    // to status before any child changes, so an action is never taken without its record.
    // Gather (when a check is due) → judge → escalate, then act.
    const { gatherer } = this.deps;
    const now = this.deps.clock();
    const lastCheck = gatherer.lastCheck(key);
    const due = checkDue(cr, lastCheck, now);
    const podFetch = cr.spec.serving?.tls && (due || cr.status?.rollout?.step === 'Shadow') ? await this.podFetch(cr) : undefined;
    const input = due ? await gatherer.gather(key, cr, this.endpoints(key, cr), now, monitoringKey, podFetch) : undefined;
    // A replica refusing the key: the Secret was replaced or removed; read it again next time.
    if (input && gatherer.refused(key)) this.monitoringKeys.delete(key);
    const judgement = input ? judge(input, cr) : undefined;
    const step = escalationStep(cr, { now, judgement, nextCheckDue: nextCheckDue(cr, lastCheck), random: (this.deps.random ?? Math.random)() });
    this.deps.driftMetrics.observe(namespace, name, step.drift, step.escalation.level ?? 0);
    if (judgement?.signals) this.deps.driftMetrics.observeSignals(namespace, name, judgement.signals);
    if (step.changed) {
      const observed = cr.status;
      if (!jsonEqual(observed?.escalation ?? { level: 0 }, step.escalation)) {
        // The records first: if one cannot be written the pass fails and all are tried again.
        await this.writeRecords(cr, observed?.escalation, step.escalation, rfc3339(now));
      }
      cr = { ...cr, status: { ...cr.status, drift: step.drift, escalation: step.escalation } };
      await this.writeStatus(cr, undefined, observed);
      if (judgement) gatherer.commit(key, judgement.consumed);
      if (step.transitioned) gatherer.reset(key);
      for (const a of step.announcements) {
        objLog[a.type === 'Warning' ? 'warn' : 'info'](a.message, { reason: a.reason });
        void this.deps.recorder.record(cr, a.type, a.reason, a.message);
      }
    }
    // The label store after what this check read and judged (a no-op when it did not change).
    if (input) {
      await gatherer.save(key, cr).catch((err: unknown) => objLog.warn('label store not saved; trying again after the next check', { error: err }));
    }
    // The retraining signal, in a pass of its own once the escalation it reports is in status; its outcome
    // is written before anything else is done, and the pass runs again at once.
    // What this process last attempted counts too: the cache may not show its status write yet.
    const known = this.notified.get(key);
    const recorded = cr.status?.notification;
    const latest = known && (recorded?.id !== known.id || recorded.attempts < known.attempts) ? known : recorded;
    const notification = step.changed ? undefined : notificationDue(latest === recorded ? cr : { ...cr, status: { ...cr.status, notification: latest } }, now);
    if (notification?.now) {
      await this.notify(cr, notification, latest, objLog);
      return { requeueAfterMs: 1 };
    }
    if (step.refusedAcknowledgement && !this.refused.has(`${key} ${step.refusedAcknowledgement.key}`)) {
      this.refused.add(`${key} ${step.refusedAcknowledgement.key}`);
      void this.deps.recorder.record(cr, 'Warning', 'AcknowledgementRefused', step.refusedAcknowledgement.message);
    }

    // The acceptance gate: the candidate's Job and its result; the Deployment serves what passed.
    let acceptanceDue = Infinity;
    // What the server holds, before this pass's acceptance result is added to it.
    const held = cr.status;
    if (gated(cr)) {
      if (cr.spec.acceptance) {
        const gate = await this.acceptance(cr, objLog);
        cr = gate.cr;
        acceptanceDue = gate.requeueAfterMs ?? Infinity;
      }
      cr = settleGates(cr, rfc3339(this.deps.clock()));
      const a = cr.status?.approval;
      const signedOff = `${key} ${a?.sha256} approved`;
      if (a?.approvedAt && (held?.approval?.sha256 !== a.sha256 || held?.approval?.approvedAt === undefined) && !this.announced.has(signedOff)) {
        this.announced.add(signedOff);
        const message = `version ${cr.spec.model.version} approved: ${(a.signatures ?? []).map((x) => `${x.item} by ${x.signedBy}`).join(', ')}`;
        objLog.info(message, { reason: 'Approved' });
        void this.deps.recorder.record(cr, 'Normal', 'Approved', message);
      }
    }

    // The rollout of a new version beside the serving one (spec.rollout): a changed step is written to
    // status before anything is done about it.
    let rolloutDue = Infinity;
    let written = false;
    let candidate: 'none' | 'shadow' | 'canary' = 'none';
    if (cr.spec.rollout || cr.status?.rollout || caches.deployment(namespace, candidateName(name))) {
      const r = await this.rollout(cr, monitoringKey, objLog, podFetch);
      candidate = r.candidate;
      rolloutDue = r.requeueAfterMs ?? Infinity;
      if (r.changed) {
        await this.writeStatus(r.cr, undefined, held);
        written = true;
        for (const e of r.events) {
          objLog[e.type === 'Warning' ? 'warn' : 'info'](e.message, { reason: e.reason });
          void this.deps.recorder.record(r.cr, e.type, e.reason, e.message);
        }
      }
      cr = r.cr;
      // The serving replicas stop copying at once (they would stop by themselves within two minutes).
      if (r.shadowTarget === 'clear') await this.shadowTargets(cr, 'clear', monitoringKey, objLog, undefined, podFetch);
    }

    // A revoked version serves nowhere (the admission policy refuses it first; this is the second line).
    const revoked = this.revocation(cr, objLog);
    let applied = false;
    try {
      let deployment;
      let service;
      try {
        const served = asServed(cr);
        deployment = desiredDeployment(revoked ? { ...served, spec: { ...served.spec, serving: { ...served.spec.serving, replicas: 0 } } } : served, this.deps.settings);
        service = desiredService(cr);
      } catch (err) {
        if (err instanceof ModelUriError || err instanceof ServingSpecError) throw new TerminalError(err.message);
        throw err;
      }
      // The card's ConfigMap is not cached (the operator may not list ConfigMaps): the Deployment's
      // digest annotation says whether it is current, and it goes in before the Deployment records it.
      const card = desiredModelCard(cr);
      const cardChange = card && caches.deployment(namespace, name)?.metadata?.annotations?.[CARD_DIGEST_ANNOTATION] !==
        deployment.metadata.annotations?.[CARD_DIGEST_ANNOTATION]
        ? await this.ensure(cr, 'ConfigMap', { ...CONFIGMAPS, namespace, name: card.metadata.name }, card, undefined, objLog)
        : undefined;
      // The children are independent: apply them side by side.
      const candidateRef = { ...DEPLOYMENTS, namespace, name: candidateName(name) };
      const changes = await Promise.all([
        cardChange,
        this.ensure(cr, 'Deployment', { ...DEPLOYMENTS, namespace, name }, deployment, caches.deployment(namespace, name), objLog),
        this.ensure(cr, 'Service', { ...SERVICES, namespace, name }, service, caches.service(namespace, name), objLog),
        candidate !== 'none'
          ? this.ensure(cr, 'Deployment', candidateRef, candidateDeployment(cr, candidate, this.deps.settings), caches.deployment(namespace, candidateRef.name), objLog)
          : caches.deployment(namespace, candidateRef.name)
            ? this.deps.client.delete(candidateRef).then((gone): Change | undefined => {
              this.deps.onWrite('deployments');
              return gone ? { kind: 'Deployment', name: candidateRef.name, verb: 'deleted' } : undefined;
            })
            : undefined,
      ]);
      const done = changes.filter((c): c is Change => c !== undefined);
      applied = done.length > 0;
      if (applied) {
        // One Event per pass, not per child: Events are API writes too. Sent without waiting for it.
        const created = done.every((c) => c.verb === 'created');
        const verbs = (c: Change) => (c.verb === 'deleted' ? ' (deleted)' : '');
        // Say when the update was a change of size, and why: the escalation level or the spec.
        const before = caches.deployment(namespace, name)?.spec?.replicas;
        const after = deployment.spec.replicas;
        const level = cr.status?.escalation?.level ?? 0;
        const resized = !created && before !== undefined && before !== after
          ? ` (${before} → ${after} replicas${level > 0 ? `, escalation level ${level}` : ''})` : '';
        void this.deps.recorder.record(cr, 'Normal', created ? 'Created' : 'Updated',
          `${done.map((c) => `${c.kind} ${c.name}${verbs(c)}`).join(' and ')} ${created ? 'created' : 'updated to match the spec'}${resized}`);
      }
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      const changed = await this.writeStatus(cr, message, held).catch((e: unknown) => {
        // A stale copy means our last status write (which recorded a failure) is not cached yet.
        if (e instanceof StaleCacheError) return false;
        objLog.warn('status not written', { error: e });
        return true;
      });
      // One Warning per distinct failure, not one per retry: a retry that fails the same way leaves
      // the status as it was.
      if (changed) void this.deps.recorder.record(cr, 'Warning', 'ReconcileFailed', message);
      throw err;
    }
    // A child that just changed will report its new state through the watch, which queues this key
    // again; a status computed now would describe the old state and cost a second write.
    if (!applied && !step.changed && !written) await this.writeStatus(cr, undefined, held);
    // Look again when a review falls due, if that comes before the next drift check.
    const review = reviewOutcome(cr, this.deps.clock());
    this.deps.driftMetrics.observeReview(namespace, name, review.review?.overdue === true);
    const reviewDue = review.nextDueMs === undefined ? Infinity : review.nextDueMs + 1000;
    const notifyDue = notification ? Math.max(1, notification.at - now) : Infinity;
    return { requeueAfterMs: Math.min(step.requeueAfterMs, reviewDue, notifyDue, acceptanceDue, rolloutDue) };
  }

  /**
   * One pass of the declared version's rollout: what the candidate's pods and (in shadow) the serving
   * replicas' comparisons say, judged by rolloutPass; the ClinicalModel with status.rollout (and, on a
   * promotion, status.acceptance.accepted) as it follows.
   */
  private async rollout(cr: ClinicalModel, monitoringKey: string, log: Logger, podFetch?: typeof fetch): Promise<ReturnType<typeof rolloutPass> & { cr: ClinicalModel }> {
    const namespace = cr.metadata.namespace ?? 'default';
    const name = cr.metadata.name;
    const key = `${namespace}/${name}`;
    const sha = cr.spec.model.sha256.toLowerCase();
    const candidatePods = this.deps.caches.candidatePods(namespace, name);
    const r = cr.status?.rollout;
    let shadow: ShadowTotals | undefined;
    let reference: readonly number[] | undefined;
    if (r?.step === 'Shadow' && r.sha256 === sha && inRollout(cr)) {
      const tls = cr.spec.serving?.tls !== undefined;
      const urls = candidatePods.filter(isReady).flatMap((p) => (p.status?.podIP ? [monitoringUrl(p.status.podIP, tls)] : []));
      if (urls.length > 0) {
        const reports = await this.shadowTargets(cr, 'set', monitoringKey, log,
          { sha256: sha, urls, token: monitoringKey, ttlSeconds: 120, ...(tls ? { serverName: serviceHost(cr) } : {}) }, podFetch);
        const mine = reports.filter((x) => x.sha256 === sha);
        if (mine.length > 0) shadow = sumShadow(mine);
      }
      // The reference only for a verdict (a GET of its ConfigMap, parsed once per resourceVersion).
      if (shadow && shadow.compared >= (cr.spec.rollout?.shadow?.requests ?? 200)) {
        const ref = await this.deps.gatherer.referenceValues(key, cr);
        if (Array.isArray(ref)) reference = ref;
      }
    }
    const serving = this.deps.caches.pods(namespace, name).filter((p) => !p.metadata?.labels?.[CANDIDATE_LABEL] && !p.metadata?.deletionTimestamp);
    const servingCurrent = serving.filter((p) => isReady(p) && servesSha(p, sha)).length >= desiredReplicas(cr) && serving.every((p) => servesSha(p, sha));
    const pass = rolloutPass(cr, { now: rfc3339(this.deps.clock()), candidatePods, servingCurrent, shadow, reference }, servable(cr));
    const acceptance = pass.accepted ? { ...cr.status?.acceptance, accepted: pass.accepted } : cr.status?.acceptance;
    const next = pass.rollout || pass.accepted ? { ...cr, status: { ...cr.status, rollout: pass.rollout ?? cr.status?.rollout, acceptance } } : cr;
    return { ...pass, cr: next as ClinicalModel };
  }

  /**
   * Tell each ready serving replica where the candidate's replicas are (set; renewed every pass, it lapses
   * by itself) or to stop copying (clear); what each reported of its copies. A replica that cannot be
   * reached is skipped: the next pass asks again.
   */
  private async shadowTargets(cr: ClinicalModel, action: 'set' | 'clear', monitoringKey: string, log: Logger, body?: object, podFetch?: typeof fetch): Promise<Array<Partial<ShadowReport>>> {
    const namespace = cr.metadata.namespace ?? 'default';
    const pods = this.deps.caches.pods(namespace, cr.metadata.name).filter((p) => isReady(p) && !p.metadata?.labels?.[CANDIDATE_LABEL] && p.status?.podIP);
    const fetchFn = podFetch ?? this.deps.fetchFn ?? fetch;
    const tls = cr.spec.serving?.tls !== undefined;
    const results = await Promise.all(pods.map(async (p) => {
      try {
        const res = await fetchFn(`${monitoringUrl(p.status!.podIP!, tls)}/v1/monitoring/shadow`, {
          method: action === 'set' ? 'POST' : 'DELETE',
          headers: { authorization: `Bearer ${monitoringKey}`, ...(body ? { 'content-type': 'application/json' } : {}) },
          ...(body ? { body: JSON.stringify(body) } : {}),
          signal: AbortSignal.timeout(3000),
        });
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
        return jsonWithin<Partial<ShadowReport>>(res, 64 * 1024);
      } catch (err) {
        log.debug('shadow target not reached', { pod: p.metadata?.name, error: err });
        return undefined;
      }
    }));
    return results.filter((x): x is NonNullable<typeof x> => x !== undefined);
  }

  /**
   * The candidate (spec.model.sha256) through acceptance: its Job made when it has none, its result read
   * from the Job's pod, status.acceptance as it follows (written with the rest of status), and an Event
   * when it is decided. Look again soon while the Job runs.
   */
  private async acceptance(cr: ClinicalModel, log: Logger): Promise<{ cr: ClinicalModel; requeueAfterMs?: number }> {
    const sha = cr.spec.model.sha256.toLowerCase();
    const acc = cr.status?.acceptance;
    if (acc?.accepted?.sha256 === sha || (acc?.candidate?.sha256 === sha && acc.candidate.state !== 'Running')) return { cr };
    const namespace = cr.metadata.namespace ?? 'default';
    const jobs = { group: 'batch', version: 'v1', plural: 'jobs', namespace };
    const image = this.deps.settings.acceptanceImage ?? this.deps.settings.serverImage;
    // The Job this operator made for the candidate, by the uid status recorded (or this process remembers,
    // while its status write is not yet seen): never a Job found by its name alone.
    const memo = `${namespace}/${cr.metadata.name} ${sha}`;
    const recorded = acc?.candidate?.sha256 === sha && acc.candidate.jobUid ? { name: acc.candidate.job!, uid: acc.candidate.jobUid } : this.acceptanceJobs.get(memo);
    let job = recorded ? await this.deps.client.get<ObservedJob>({ ...jobs, name: recorded.name }) : undefined;
    const runs = job?.spec?.template?.spec?.containers?.find((c) => c.name === 'accept')?.image;
    if (recorded && (job?.metadata?.uid !== recorded.uid || runs !== image)) {
      const why = job?.metadata?.uid !== recorded.uid ? 'is gone or is not the one the operator made' : `runs ${runs}, not the operator's acceptance image now`;
      const message = `the acceptance Job ${recorded.name} of version ${cr.spec.model.version} ${why}; starting another`;
      log.warn(message, { reason: 'AcceptanceRestarted' });
      void this.deps.recorder.record(cr, 'Warning', 'AcceptanceRestarted', message);
      job = undefined;
    }
    if (!job) {
      this.deps.onWrite('jobs');
      job = await this.deps.client.create<ObservedJob>(jobs, acceptanceJob(cr, image));
      this.acceptanceJobs.set(memo, { name: job.metadata!.name!, uid: job.metadata!.uid! });
      const message = `version ${cr.spec.model.version} (sha256 ${sha.slice(0, 12)}…) is a candidate: Job ${job.metadata?.name} runs acceptance on the holdout`;
      log.info(message, { reason: 'AcceptanceStarted' });
      void this.deps.recorder.record(cr, 'Normal', 'AcceptanceStarted', message);
    }
    // Its pods by the Job's controller uid; jobResult believes only those the Job controls and that run its template.
    const pods = await this.deps.client.list<ObservedJobPod>({ group: '', version: 'v1', plural: 'pods', namespace },
      { labelSelector: `batch.kubernetes.io/controller-uid=${job.metadata!.uid!}` });
    const holdoutSha256 = await this.holdoutDigest(cr);
    const now = rfc3339(this.deps.clock());
    const result = jobResult(cr, job, pods.items, now, { image, ...(holdoutSha256 ? { holdoutSha256 } : {}) });
    const acceptance = nextAcceptance(cr, result);
    const next = { ...cr, status: { ...cr.status, acceptance } };
    const announced = `${cr.metadata.namespace}/${cr.metadata.name} ${sha} ${result.state}`;
    if (result.state !== 'Running' && !this.announced.has(announced)) {
      this.announced.add(announced);
      const keeps = acceptance.accepted && acceptance.accepted.sha256 !== sha ? `version ${acceptance.accepted.version} keeps serving` : 'nothing serves until a version passes';
      const [type, reason, message] = result.state === 'Passed'
        ? ['Normal', 'Accepted', `version ${result.version} passed acceptance on ${result.cases} cases (${metricsText(result)})`] as const
        : result.state === 'Failed'
          ? ['Warning', 'Rejected', `version ${result.version} failed acceptance: ${result.message}; ${keeps}`] as const
          : ['Warning', 'AcceptanceError', `version ${result.version} could not be accepted: ${result.message}; ${keeps}`] as const;
      log[type === 'Normal' ? 'info' : 'warn'](message, { reason });
      void this.deps.recorder.record(next, type, reason, message);
    }
    if (result.state !== 'Running') this.acceptanceJobs.delete(memo);
    return { cr: next, requeueAfterMs: result.state === 'Running' ? 3000 : undefined };
  }

  /** The sha256 of a holdout kept in a ConfigMap (a file on the model's claim the operator cannot read: undefined). */
  private async holdoutDigest(cr: ClinicalModel): Promise<string | undefined> {
    const ref = cr.spec.acceptance?.holdout.configMapRef;
    if (!ref) return undefined;
    const cm = await this.deps.client.get<{ data?: Record<string, string> }>({ ...CONFIGMAPS, namespace: cr.metadata.namespace ?? 'default', name: ref.name }, { fromCache: true });
    const text = cm?.data?.[ref.key ?? 'holdout.json'];
    return text === undefined ? undefined : createHash('sha256').update(text).digest('hex');
  }

  /** One attempt at the current escalation's CloudEvent, recorded in status.notification and an Event. */
  private async notify(cr: ClinicalModel, due: DueNotification, prev: NotificationStatus | undefined, log: Logger): Promise<void> {
    const spec = cr.spec.governance!.notify!;
    const namespace = cr.metadata.namespace ?? 'default';
    const key = `${namespace}/${cr.metadata.name}`;
    const now = this.deps.clock();
    let error: string | undefined;
    let token: string | undefined;
    if (spec.tokenSecretRef) {
      // Only a Secret that opted in is read: its labels first (metadata alone), its data only then.
      const { name, key: item } = spec.tokenSecretRef;
      const ref = { ...SECRETS, namespace, name };
      const meta = await this.deps.client.getMetadata(ref);
      if (!meta) error = `token Secret ${name} not found`;
      else if (meta.metadata?.labels?.[NOTIFY_TOKEN_LABEL] !== 'true') error = `token Secret ${name} lacks the label ${NOTIFY_TOKEN_LABEL}=true`;
      else {
        const b64 = (await this.deps.client.get<{ data?: Record<string, string> }>(ref))?.data?.[item];
        if (b64 === undefined) error = `token Secret ${name} has no key "${item.slice(0, 253)}"`;
        else token = Buffer.from(b64, 'base64').toString('utf8').trim();
      }
    }
    error ??= await sendEvent(spec.url, token, escalationEvent(cr, due.id, this.deps.gatherer.relabelCandidates(key), now), this.deps.notifyPolicy ?? DEFAULT_NOTIFY_POLICY);
    const notification = afterAttempt(prev, due, error, now);
    this.notified.set(key, notification);
    // Only the operator writes status.notification: a merge patch without a precondition lands even
    // when the cached copy is behind (a refused write would leave an attempt unrecorded).
    this.deps.onWrite(`${PLURAL}/status`);
    await this.deps.client.mergePatch({ group: GROUP, version: VERSION, plural: PLURAL, namespace, name: cr.metadata.name, subresource: 'status' },
      { status: { notification: { lastError: null, nextAttemptAt: null, deliveredAt: null, gaveUp: null, ...notification } } }, FIELD_MANAGER);
    const where = new URL(spec.url).host;
    if (!error) {
      const message = `escalation level ${due.level} sent to ${where} as CloudEvent ${due.id}`;
      log.info(message, { reason: 'NotificationSent', attempts: notification.attempts });
      void this.deps.recorder.record(cr, 'Normal', 'NotificationSent', message);
    } else if (notification.gaveUp || notification.attempts === 1) {
      const message = notification.gaveUp
        ? `escalation level ${due.level} could not be sent to ${where} in ${notification.attempts} attempts (${error}); giving up`
        : `escalation level ${due.level} not sent to ${where} (${error}); retrying with backoff`;
      log.warn(message, { reason: 'NotificationFailed' });
      void this.deps.recorder.record(cr, 'Warning', 'NotificationFailed', message);
    }
  }

  /**
   * The model's monitoring key: read from its Secret once per model object, or made (32 random bytes) and
   * stored when the Secret is absent. A Secret of that name the operator did not make (no record label,
   * another owner) is refused, never used: whoever made it would know the key to the model's signals.
   */
  private async monitoringKey(cr: ClinicalModel, log: Logger): Promise<string> {
    const key = `${cr.metadata.namespace}/${cr.metadata.name}`;
    const uid = cr.metadata.uid ?? '';
    const cached = this.monitoringKeys.get(key);
    if (cached?.uid === uid) return cached.key;
    const ref = { ...SECRETS, namespace: cr.metadata.namespace ?? 'default', name: monitoringKeyName(cr.metadata.name) };
    type KeySecret = RecordMeta & { data?: Record<string, string> };
    let secret = await this.deps.client.getMetadata(ref) as KeySecret | undefined;
    if (!secret) {
      this.deps.onWrite('secrets');
      secret = await this.deps.client.create<KeySecret>(ref, desiredMonitoringSecret(cr, randomBytes(32).toString('base64url')))
        .catch(async (err: unknown) => {
          // Made meanwhile (by an earlier leader, or by someone else: judged below).
          if (err instanceof ApiError && err.statusCode === 409) return this.deps.client.getMetadata(ref) as Promise<KeySecret | undefined>;
          throw err;
        });
      log.info('monitoring key created', { secret: ref.name });
    }
    if (!isOperatorRecord(secret, 'monitoring-key', uid)) throw new RecordConflictError('Secret', ref.name, "the model's monitoring key");
    if (!secret?.data) secret = await this.deps.client.get<KeySecret>(ref);
    const value = monitoringKeyOf(secret);
    if (!value) throw new TerminalError(`Secret ${ref.name} holds no monitoring key: its "${MONITORING_KEY}" must be at least 16 characters (delete it and the operator makes one)`);
    this.monitoringKeys.set(key, { uid, key: value });
    return value;
  }

  /**
   * Whether an object of a record's name is in the way (not the operator's): if so it is remembered for the
   * model's RecordConflict condition and announced once; if not, a conflict it had is cleared.
   */
  private recordConflict(cr: ClinicalModel, kind: string, objectName: string, ours: boolean, what: string): boolean {
    const key = `${cr.metadata.namespace}/${cr.metadata.name}`;
    const known = this.conflicts.get(key);
    if (ours) {
      known?.delete(`${kind}/${objectName}`);
      return false;
    }
    const message = new RecordConflictError(kind, objectName, what).message;
    if (known?.get(`${kind}/${objectName}`) !== message) {
      this.conflicts.set(key, (known ?? new Map()).set(`${kind}/${objectName}`, message));
      this.deps.log.warn(message, { kind: KIND, namespace: cr.metadata.namespace, name: cr.metadata.name, reason: 'RecordConflict' });
      void this.deps.recorder.record(cr, 'Warning', 'RecordConflict', message);
    }
    return true;
  }

  /**
   * The records a change of escalation leaves: the escalation record (which outlives the model), and on
   * entering level 3 the version shut down, revoked (a RevokedVersion). A ConfigMap of the record's name
   * that the operator did not make is left alone (RecordConflict); the escalation itself still goes ahead.
   */
  private async writeRecords(cr: ClinicalModel, before: EscalationStatus | undefined, escalation: EscalationStatus, now: string): Promise<void> {
    const namespace = cr.metadata.namespace ?? 'default';
    const name = cr.metadata.name;
    const ref = { ...CONFIGMAPS, namespace, name: recordName(name) };
    const existing = await this.deps.client.get<RecordMeta>(ref, { fromCache: true });
    if (!existing || !this.recordConflict(cr, 'ConfigMap', ref.name, existing.metadata?.labels?.[RECORD_LABEL] === name, "the model's escalation record")) {
      this.deps.onWrite('configmaps');
      await this.deps.client.apply(ref, recordConfigMap(cr, escalation, now), FIELD_MANAGER, true);
    }
    if (escalation.level !== 3 || (before?.level ?? 0) === 3 || !escalation.shutdownSha256) return;
    const desired = revokedVersion(cr, escalation, now);
    const rref = { ...REVOKED_VERSIONS, namespace, name: desired.metadata.name };
    const held = await this.deps.client.get<RevokedVersion>(rref);
    this.deps.onWrite('revokedversions');
    // A whole object: revoking again drops an earlier lift.
    if (held) await this.deps.client.update(rref, { ...desired, metadata: { ...desired.metadata, resourceVersion: held.metadata.resourceVersion } });
    else await this.deps.client.create(rref, desired);
    // Every other model of the namespace that declares the version is queued by the RevokedVersions' watch.
  }

  /**
   * The second line behind the admission policy: is the version this model would serve revoked in its
   * namespace (the RevokedVersions' cache)? A model at level 3 is shut down already. A lift is announced once.
   */
  private revocation(cr: ClinicalModel, log: Logger): string | undefined {
    const key = `${cr.metadata.namespace}/${cr.metadata.name}`;
    const sha = servedModel(cr)?.sha256;
    if (!sha || (cr.status?.escalation?.level ?? 0) === 3) {
      this.revoked.delete(key);
      return undefined;
    }
    const r = this.deps.caches.revokedVersion(cr.metadata.namespace ?? 'default', sha);
    if (r?.lift && !this.liftsSeen.has(`${key} ${sha}`)) {
      this.liftsSeen.add(`${key} ${sha}`);
      const message = `the revocation of sha256 ${sha.slice(0, 12)}… (shut down as model ${r.model}) was lifted by ${r.lift.by}: ${r.lift.reason}`;
      log.warn(message, { reason: 'RevocationLifted' });
      void this.deps.recorder.record(cr, 'Warning', 'RevocationLifted', message);
    }
    const message = r && !r.lift ? revokedMessage(r) : undefined;
    if (message && this.revoked.get(key) !== message) {
      log.warn(message, { reason: 'Revoked' });
      void this.deps.recorder.record(cr, 'Warning', 'Revoked', message);
    }
    if (message) this.revoked.set(key, message);
    else this.revoked.delete(key);
    return message;
  }

  /**
   * How an HTTPS model's pods are read: verified against the CA in its TLS Secret (ca.crt) for its
   * Service's name. Made again when the Secret changes (its resourceVersion, from the watch cache).
   */
  private async podFetch(cr: ClinicalModel): Promise<typeof fetch> {
    const key = `${cr.metadata.namespace}/${cr.metadata.name}`;
    const name = cr.spec.serving!.tls!.secretRef.name;
    const secret = await this.deps.client.get<{ metadata?: { resourceVersion?: string }; data?: Record<string, string> }>({ ...SECRETS, namespace: cr.metadata.namespace ?? 'default', name }, { fromCache: true });
    const ca = secret?.data?.['ca.crt'];
    if (!ca) throw new TerminalError(secret ? `Secret ${name} has no "ca.crt": spec.serving.tls needs the CA that signed its certificate` : `Secret ${name} (spec.serving.tls) does not exist`);
    const id = `${secret.metadata?.resourceVersion} ${serviceHost(cr)}`;
    const cached = this.podFetchers.get(key);
    if (cached?.id === id) return cached.fetch;
    const made = { id, fetch: tlsFetch(Buffer.from(ca, 'base64').toString('utf8'), serviceHost(cr)) };
    this.podFetchers.set(key, made);
    return made.fetch;
  }

  /** Where to read the model's monitoring signals: its ready pods, or the URLs given for it. */
  private endpoints(key: string, cr: ClinicalModel): string[] {
    const [namespace, name] = splitKey(key);
    const ready = this.deps.caches.pods(namespace, name).filter(isReady);
    const explicit = this.deps.modelEndpoints.get(key);
    // An explicit URL stands in for the pods, so it is read only while the model has a ready replica
    // (a paused model is not read).
    if (explicit) return ready.length > 0 ? [...explicit] : [];
    // Candidate pods in a canary carry the model's labels: their predictions are the model's too.
    return ready.flatMap((p) => (p.status?.podIP ? [monitoringUrl(p.status.podIP, cr.spec.serving?.tls !== undefined)] : []));
  }

  /** Apply a child if the observed object lacks any of the desired fields. Returns what changed, if anything. */
  private async ensure(
    cr: ClinicalModel,
    kind: string,
    ref: ResourceRef,
    desired: object,
    observed: Owned | undefined,
    log: Logger,
  ): Promise<Change | undefined> {
    if (!observed) {
      // The caches hold only objects labelled as ours. Before creating, make sure nobody else's
      // object has the name: applying over it would merge our intent into a stranger's object.
      observed = await this.deps.client.get<Owned>(ref, { fromCache: true });
    }
    assertOwned(cr, kind, observed);
    const differs = observed ? difference(observed, desired) : '(absent)';
    if (!differs) return undefined;
    log.debug('apply needed', { child: `${kind}/${ref.name}`, field: differs });
    this.deps.onWrite(ref.plural);
    const result = await this.deps.client.apply<Owned>(ref, desired, FIELD_MANAGER, true);
    const changed = !observed || result.metadata?.resourceVersion !== observed.metadata?.resourceVersion;
    if (!changed) {
      // The server already held our intent; only our comparison saw a difference.
      log.debug('apply changed nothing', { child: kind });
      return undefined;
    }
    const verb = observed ? 'updated' : 'created';
    log.info(`${kind.toLowerCase()} ${verb}`, { child: `${kind}/${ref.name}`, field: differs });
    return { kind, name: ref.name ?? '', verb };
  }

  /**
   * Compute the status and write it if it differs from what the server has (`observed`: the status the
   * object had when read — given explicitly, since a new object has none); returns whether it did.
   */
  private async writeStatus(cr: ClinicalModel, applyError: string | undefined, observed: ClinicalModelStatus | undefined): Promise<boolean> {
    const { caches, client, clock } = this.deps;
    const namespace = cr.metadata.namespace ?? 'default';
    const name = cr.metadata.name;
    const pods = caches.pods(namespace, name);
    const key = `${namespace}/${name}`;
    const status = computeStatus({
      cr,
      deployment: caches.deployment(namespace, name),
      pods,
      providers: (cr.spec.serving?.gpu?.count ?? 0) > 0 ? this.deps.providers.observe(key, pods, this.deps.modelEndpoints.get(key), this.podFetchers.get(key)?.fetch) : undefined,
      applyError,
      revoked: this.revoked.get(key),
      conflicts: [...(this.conflicts.get(key)?.values() ?? [])],
      now: rfc3339(clock()),
    });
    if (!statusChanged(observed, status)) return false;
    const before = observed?.conditions?.find((c) => c.type === 'Ready');
    const after = status.conditions?.find((c) => c.type === 'Ready');
    this.deps.onWrite(`${PLURAL}/status`);
    // A merge patch from what the server holds to the new status (cheaper for the API server than an
    // apply; status has no other writer). The resourceVersion makes the write conditional: a status
    // computed from a stale copy (say, one that misses the level a check just raised) is refused
    // instead of overwriting newer state.
    try {
      await client.mergePatch(
        { group: GROUP, version: VERSION, plural: PLURAL, namespace, name, subresource: 'status' },
        { metadata: { resourceVersion: cr.metadata.resourceVersion }, status: mergePatch(observed as Record<string, unknown> | undefined, status as Record<string, unknown>) },
        FIELD_MANAGER,
      );
    } catch (err) {
      if (err instanceof ApiError && err.statusCode === 409) throw new StaleCacheError(`${namespace}/${name}`);
      throw err;
    }
    // A reason that will not clear by itself (unschedulable, image missing, crash loop) gets one Warning
    // when it appears, not one per pass.
    if (after?.reason && after.reason !== before?.reason && (after.reason === 'Unschedulable' || STUCK_REASONS.has(after.reason)) && isEventReason(after.reason)) {
      void this.deps.recorder.record(cr, 'Warning', after.reason, after.message);
    }
    if (status.phase !== observed?.phase && status.phase === 'Serving') {
      void this.deps.recorder.record(cr, 'Normal', 'Serving', after?.message ?? 'all replicas ready');
    }
    // Review cadence: an Event when a review falls overdue, and when a named reviewer records one.
    const overdue = status.conditions?.find((c) => c.type === 'ReviewOverdue');
    if (overdue?.status === 'True' && observed?.conditions?.find((c) => c.type === 'ReviewOverdue')?.status !== 'True') {
      void this.deps.recorder.record(cr, 'Warning', 'ReviewOverdue', overdue.message);
    }
    const r = status.review;
    if (r?.appliedReview && r.appliedReview !== observed?.review?.appliedReview) {
      void this.deps.recorder.record(cr, 'Normal', 'Reviewed', `reviewed by ${r.reviewedBy}${r.note ? `: ${r.note}` : ''}; next review due by ${r.dueBy ?? 'none set'}`);
    }
    return true;
  }
}

function assertOwned(cr: ClinicalModel, kind: string, observed: Owned | undefined): void {
  if (!observed) return;
  const owner = observed.metadata?.ownerReferences?.find((o) => o.controller);
  if (owner?.uid !== cr.metadata.uid) {
    // Retried with backoff: the object may be deleted or renamed by its owner.
    throw new Error(
      `${kind} ${cr.metadata.namespace}/${cr.metadata.name} exists and is not controlled by this ClinicalModel; ` +
        'rename the ClinicalModel or delete that object (the operator retries with backoff)',
    );
  }
}

function monitoringUrl(ip: string, tls = false): string {
  return `${tls ? 'https' : 'http'}://${ip.includes(':') ? `[${ip}]` : ip}:${MONITORING_PORT}`;
}

export function splitKey(key: string): [string, string] {
  const i = key.indexOf('/');
  return i < 0 ? ['', key] : [key.slice(0, i), key.slice(i + 1)];
}

/** The key of the ClinicalModel that controls an object, from its owner references. */
export function ownerKey(obj: { metadata?: { namespace?: string; ownerReferences?: Array<{ apiVersion: string; kind: string; name: string; controller?: boolean }> } }): string | undefined {
  const ref = obj.metadata?.ownerReferences?.find((o) => o.controller && o.kind === KIND && o.apiVersion.startsWith(`${GROUP}/`));
  return ref ? `${obj.metadata?.namespace ?? ''}/${ref.name}` : undefined;
}

/** The key of the ClinicalModel a pod serves, from its instance label. */
export function podKey(pod: { metadata?: { namespace?: string; labels?: Record<string, string> } }): string | undefined {
  const instance = pod.metadata?.labels?.[LABEL_INSTANCE];
  return instance ? `${pod.metadata?.namespace ?? ''}/${instance}` : undefined;
}

/** A result's metrics, as an Event says them: "auroc 0.99, sensitivity 0.95, …". */
function metricsText(r: { metrics?: Record<string, number> }): string {
  return Object.entries(r.metrics ?? {}).map(([k, v]) => `${k} ${Number(v.toPrecision(4))}`).join(', ');
}
