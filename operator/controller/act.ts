// The one place a pass writes: status (computed from scratch, written only when it changed), the
// records, the children (applied only where they differ), the acceptance Job, the notification, the
// shadow target and Events — each as a phase's outcome asks.
import type { ClinicalModel, ClinicalModelStatus, EscalationStatus, NotificationStatus } from '../api/types.js';
import { GROUP, PLURAL, VERSION } from '../api/types.js';
import { isEventReason } from '../api/reasons.js';
import { acceptanceJob, type ObservedJob } from '../acceptance/gate.js';
import { FIELD_MANAGER } from '../desired/labels.js';
import { isOperatorRecord, OPERATOR_RECORD_LABEL, RecordConflictError, type RecordKind, type RecordMeta } from '../desired/records.js';
import { reportData, reportName } from '../governance/report/data.js';
import { reportHtml } from '../governance/report/html.js';
import { MAX_POINTS } from '../governance/report/charts.js';
import { objectMeta } from '../desired/meta.js';
import { appended, decodeHistory, encodeHistory, HISTORY_KEY, type HistoryEntry, historyName } from '../governance/history.js';
import { RECORD_LABEL, recordConfigMap, recordName } from '../escalation/record.js';
import { REVOKED_VERSIONS, type RevokedVersion, revokedVersion } from '../escalation/revocation.js';
import { afterAttempt, type DueNotification, escalationEvent, NOTIFY_TOKEN_LABEL } from '../governance/notify.js';
import { DEFAULT_NOTIFY_POLICY, sendEvent } from '../governance/notify-send.js';
import { ApiError, type ResourceRef } from '../kube/client.js';
import { difference } from '../kube/difference.js';
import { STUCK_REASONS } from '../serving/pod-problems.js';
import { mergePatch } from '../util/merge-patch.js';
import { rfc3339 } from '../util/time.js';
import type { Logger } from '../../contract/log.js';
import { type ReconcilerDeps, StaleCacheError } from './deps.js';
import { type Gather, SECRETS } from './gather.js';
import type { Memory } from './memory.js';
import { type ChildChange, childrenEvent, CONFIGMAPS, revocationOf } from './phases/children.js';
import type { Action, Announce, Child, HoldTarget, Observed, Owned } from './pass.js';
import { holdReplica, shadowTargets } from './replicas.js';
import { computeStatus, statusChanged } from './status.js';

/** The most of a report the operator puts in a ConfigMap (whose limit is 1 MiB). */
const MAX_REPORT_BYTES = 900 * 1024;

export class Act {
  constructor(private readonly deps: ReconcilerDeps, private readonly memory: Memory, private readonly gather: Gather) {}

  /** Do one phase's actions in order; whether any child changed. */
  async run(actions: readonly Action[], obs: Observed, cr: ClinicalModel, log: Logger): Promise<boolean> {
    let applied = false;
    for (const a of actions) {
      switch (a.do) {
        case 'writeRecords': await this.writeRecords(cr, a.before, a.escalation, rfc3339(obs.now)); break;
        case 'recordLooked': if (cr.metadata.uid) this.memory.of(obs.key).recordLookedFor = cr.metadata.uid; break;
        case 'commitCheck':
          this.deps.gatherer.commit(obs.key, a.judgement.consumed);
          if (a.reset) this.deps.gatherer.reset(obs.key);
          break;
        case 'recordHistory':
          // Not safety-critical: a history that cannot be written is said, and the next check tries again.
          await this.recordHistory(obs, cr, a.entry).catch((err: unknown) => {
            // Someone else's ConfigMap in its place is in status already (RecordConflict).
            if (!(err instanceof RecordConflictError)) log.warn('history not saved; the next check tries again', { error: err });
          });
          break;
        case 'writeReport': await this.writeReport(obs, cr, a.since); break;
        case 'saveLabels':
          await this.deps.gatherer.save(obs.key, cr).catch((err: unknown) => log.warn('label store not saved; trying again after the next check', { error: err }));
          break;
        case 'driftMetrics':
          this.deps.driftMetrics.observe(obs.namespace, obs.name, a.drift, a.level);
          if (a.judgement?.signals) this.deps.driftMetrics.observeSignals(obs.namespace, obs.name, a.judgement.signals);
          break;
        case 'reviewMetrics': this.deps.driftMetrics.observeReview(obs.namespace, obs.name, a.overdue); break;
        case 'notify': await this.notify(obs, cr, a.due, a.prev, log); break;
        case 'startAcceptance': await this.startAcceptance(obs, cr, a.image, log); break;
        case 'acceptanceDone': this.memory.of(obs.key).acceptanceJobs.delete(cr.spec.model.sha256.toLowerCase()); break;
        case 'clearShadow':
          await shadowTargets(cr, this.deps.caches.pods(obs.namespace, obs.name), 'clear', obs.monitoringKey,
            this.memory.of(obs.key).podFetch?.fetch ?? this.deps.fetchFn ?? fetch, log);
          break;
        case 'hold': await this.hold(obs, cr, a.held, a.reason, a.targets, log); break;
        case 'applyChildren': {
          const done = await this.applyChildren(cr, a.children, log);
          if (a.rescale) {
            // An update by its own manager name: the field then belongs to it, not to the apply that
            // leaves replicas to the autoscaler, so no later apply removes it.
            this.deps.onWrite('deployments/scale');
            await this.deps.client.mergePatch({ ...a.rescale.ref, subresource: 'scale' }, { spec: { replicas: a.rescale.replicas } }, `${FIELD_MANAGER}-autoscaling`);
            log.info('deployment rescaled for its autoscaler', { replicas: a.rescale.replicas });
            done.push({ kind: 'Deployment', name: a.rescale.ref.name ?? '', verb: 'updated' });
          }
          applied ||= done.length > 0;
          const event = childrenEvent(done, a.resize);
          if (event) this.announce(obs, cr, [event], log);
          break;
        }
      }
    }
    return applied;
  }

  /**
   * Hold or release a PACS model's replicas, each confirmed remembered (by pod uid and restart count). A
   * replica that cannot be reached is said once (HoldFailed) and asked again at the next pass.
   */
  private async hold(obs: Observed, cr: ClinicalModel, held: boolean, reason: string, targets: readonly HoldTarget[], log: Logger): Promise<void> {
    const mem = this.memory.of(obs.key);
    const fetchFn = mem.podFetch?.fetch ?? (cr.spec.serving?.tls ? await this.gather.podFetch(obs.key, cr) : this.deps.fetchFn ?? fetch);
    const holds = (mem.holds ??= new Map());
    await Promise.all(targets.map(async (t) => {
      const why = await holdReplica(t.url, held ? { held, reason } : { held }, obs.monitoringKey, fetchFn)
        .then((ok) => (ok ? undefined : 'it answered another state'), (err: unknown) => (err instanceof Error ? err.message : String(err)));
      if (why === undefined) {
        holds.set(t.id, held);
        this.forget(obs, [`hold ${t.pod}`]);
        log.info(held ? 'replica held' : 'replica released', { pod: t.pod });
        return;
      }
      this.announce(obs, cr, [{ type: 'Warning', reason: 'HoldFailed', message: `replica ${t.pod} not ${held ? 'held' : 'released'} (${why.slice(0, 200)}); asked again shortly`, once: { topic: `hold ${t.pod}` } }], log);
    }));
    // Pods gone are forgotten: the map holds at most the replicas there are.
    const live = new Set((obs.holdTargets ?? []).map((t) => t.id));
    for (const id of holds.keys()) if (!live.has(id)) holds.delete(id);
  }

  /** Send a phase's Events (a `once` Event only when its topic says something new) and log them. */
  announce(obs: Observed, cr: ClinicalModel, events: readonly Announce[], log: Logger): void {
    const said = this.memory.of(obs.key).said;
    for (const e of events) {
      if (e.once) {
        const value = e.once.value ?? '';
        if (said.get(e.once.topic) === value) continue;
        said.set(e.once.topic, value);
      }
      if (!e.unlogged) log[e.type === 'Warning' ? 'warn' : 'info'](e.message, { reason: e.reason });
      void this.deps.recorder.record(cr, e.type, e.reason, e.message);
    }
  }

  forget(obs: Observed, topics: readonly string[]): void {
    for (const t of topics) this.memory.of(obs.key).said.delete(t);
  }

  /**
   * Compute the status and write it if it differs from what the server has (`held`: the status the
   * object has there — given explicitly, since a new object has none); when it did, what it wrote and
   * the object's resourceVersion after (for a later write in the same pass), else false.
   */
  async writeStatus(obs: Observed, cr: ClinicalModel, applyError: string | undefined, held: ClinicalModelStatus | undefined): Promise<false | { status: ClinicalModelStatus; resourceVersion?: string }> {
    const { caches, client } = this.deps;
    const { namespace, name, key } = obs;
    const pods = caches.pods(namespace, name);
    const mem = this.memory.of(key);
    const status = computeStatus({
      cr,
      deployment: caches.deployment(namespace, name),
      pods,
      providers: (cr.spec.serving?.gpu?.count ?? 0) > 0 ? this.deps.providers.observe(key, pods, this.deps.modelEndpoints.get(key), mem.podFetch?.fetch) : undefined,
      applyError,
      revoked: revocationOf(cr, obs.revocations).message,
      conflicts: [...mem.conflicts.values()],
      now: rfc3339(this.deps.clock()),
    });
    if (!statusChanged(held, status)) return false;
    const before = held?.conditions?.find((c) => c.type === 'Ready');
    const after = status.conditions?.find((c) => c.type === 'Ready');
    this.deps.onWrite(`${PLURAL}/status`);
    // A merge patch from what the server holds to the new status (cheaper for the API server than an
    // apply; status has no other writer). The resourceVersion makes the write conditional: a status
    // computed from a stale copy (say, one that misses the level a check just raised) is refused
    // instead of overwriting newer state.
    let rv: string | undefined;
    try {
      const written = await client.mergePatch<{ metadata?: { resourceVersion?: string } } | undefined>(
        { group: GROUP, version: VERSION, plural: PLURAL, namespace, name, subresource: 'status' },
        { metadata: { resourceVersion: cr.metadata.resourceVersion }, status: mergePatch(held as Record<string, unknown> | undefined, status as Record<string, unknown>) },
        FIELD_MANAGER,
      );
      rv = written?.metadata?.resourceVersion;
      if (rv) this.deps.onStatusWritten?.(key, rv);
    } catch (err) {
      if (err instanceof ApiError && err.statusCode === 409) throw new StaleCacheError(key);
      throw err;
    }
    const events: Announce[] = [];
    // A reason that will not clear by itself (unschedulable, image missing, crash loop) gets one Warning
    // when it appears, not one per pass.
    if (after?.reason && after.reason !== before?.reason && (after.reason === 'Unschedulable' || STUCK_REASONS.has(after.reason)) && isEventReason(after.reason)) {
      events.push({ type: 'Warning', reason: after.reason, message: after.message, unlogged: true });
    }
    if (status.phase !== held?.phase && status.phase === 'Serving') {
      events.push({ type: 'Normal', reason: 'Serving', message: after?.message ?? 'all replicas ready', unlogged: true });
    }
    // Review cadence: an Event when a review falls overdue, and when a named reviewer records one.
    const overdue = status.conditions?.find((c) => c.type === 'ReviewOverdue');
    if (overdue?.status === 'True' && held?.conditions?.find((c) => c.type === 'ReviewOverdue')?.status !== 'True') {
      events.push({ type: 'Warning', reason: 'ReviewOverdue', message: overdue.message, unlogged: true });
    }
    const r = status.review;
    if (r?.appliedReview && r.appliedReview !== held?.review?.appliedReview) {
      events.push({ type: 'Normal', reason: 'Reviewed', message: `reviewed by ${r.reviewedBy}${r.note ? `: ${r.note}` : ''}; next review due by ${r.dueBy ?? 'none set'}`, unlogged: true });
    }
    // A decision recorded (spec.governance.decisions): said once, with who decided what and why.
    const known = new Set((held?.decisions ?? []).map((x) => x.seenAt + x.reviewer + x.reason));
    for (const x of status.decisions ?? []) {
      if (known.has(x.seenAt + x.reviewer + x.reason)) continue;
      const until = x.until ? ` until ${x.until}` : '';
      events.push({ type: 'Normal', reason: 'DecisionRecorded', message: `${x.reviewer} decided ${x.decision} on ${x.finding}${until}${x.decision === 'Accept' ? ` (up to level ${x.upToLevel ?? 1})` : ''}: ${x.reason}` });
    }
    this.announce(obs, cr, events, this.deps.log);
    return { status, ...(rv ? { resourceVersion: rv } : {}) };
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
    if (!existing || !this.gather.conflict(cr, 'ConfigMap', ref.name, existing.metadata?.labels?.[RECORD_LABEL] === name, "the model's escalation record")) {
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
   * The check's entry appended to the model's history record (ConfigMap NAME-history, the operator's: a
   * ConfigMap of that name someone else made is left alone, RecordConflict). Read once per model object.
   */
  private async recordHistory(obs: Observed, cr: ClinicalModel, entry: HistoryEntry): Promise<void> {
    const { ref, held, entries } = await this.history(obs, cr);
    const next = appended(entries, entry);
    await this.writeRecord(cr, ref, held, 'history', { binaryData: { [HISTORY_KEY]: encodeHistory(next).toString('base64') } });
    this.memory.of(obs.key).history = { uid: cr.metadata.uid ?? '', entries: next };
  }

  /** The model's check history: as this process last read or wrote it, else from its record. */
  private async history(obs: Observed, cr: ClinicalModel): Promise<{ ref: ResourceRef; held?: RecordMeta; entries: HistoryEntry[] }> {
    const mem = this.memory.of(obs.key);
    const uid = cr.metadata.uid ?? '';
    const ref = { ...CONFIGMAPS, namespace: obs.namespace, name: historyName(obs.name) };
    const held = await this.deps.client.getMetadata(ref);
    if (this.gather.conflict(cr, 'ConfigMap', ref.name, !held || isOperatorRecord(held, 'history', uid), "the model's check history")) {
      throw new RecordConflictError('ConfigMap', ref.name, "the model's check history");
    }
    if (mem.history?.uid !== uid) {
      const stored = held ? (await this.deps.client.get<{ binaryData?: Record<string, string> }>(ref))?.binaryData?.[HISTORY_KEY] : undefined;
      const decoded = stored ? decodeHistory(Buffer.from(stored, 'base64')) : { entries: [] };
      if ('problem' in decoded && decoded.problem) this.deps.log.warn(decoded.problem, { configMap: ref.name });
      mem.history = { uid, entries: decoded.entries };
    }
    return { ref, ...(held ? { held } : {}), entries: mem.history.entries };
  }

  /** The model's report of the period since `since` (spec.governance.reportEvery), into ConfigMap NAME-report. */
  private async writeReport(obs: Observed, cr: ClinicalModel, since: number): Promise<void> {
    const { entries } = await this.history(obs, cr).catch((err: unknown) => {
      if (!(err instanceof RecordConflictError)) throw err;
      return { entries: [] as HistoryEntry[] };
    });
    // A ConfigMap holds at most 1 MiB: many subgroups and signals are drawn with fewer points until it fits.
    const data = reportData(cr, { entries }, since, this.deps.clock());
    let html = '';
    for (const points of [MAX_POINTS, MAX_POINTS / 2, MAX_POINTS / 4, 10]) {
      html = await reportHtml(data, points);
      if (Buffer.byteLength(html) <= MAX_REPORT_BYTES) break;
    }
    const ref = { ...CONFIGMAPS, namespace: obs.namespace, name: reportName(obs.name) };
    const held = await this.deps.client.getMetadata(ref);
    if (this.gather.conflict(cr, 'ConfigMap', ref.name, !held || isOperatorRecord(held, 'report', cr.metadata.uid), "the model's report")) {
      throw new RecordConflictError('ConfigMap', ref.name, "the model's report");
    }
    await this.writeRecord(cr, ref, held, 'report', { data: { 'report.html': html } });
  }

  /** A record of the operator's own (its label, the model as owner): created, or applied over the one checked. */
  private async writeRecord(cr: ClinicalModel, ref: ResourceRef, held: RecordMeta | undefined, kind: RecordKind, content: object): Promise<void> {
    const body = {
      apiVersion: 'v1', kind: 'ConfigMap',
      // The uid of the object checked: one put in its place meanwhile is a conflict, not an update.
      metadata: { ...objectMeta(cr, ref.name!, { [OPERATOR_RECORD_LABEL]: kind }), ...(held?.metadata?.uid ? { uid: held.metadata.uid } : {}) },
      ...content,
    };
    this.deps.onWrite('configmaps');
    if (held) await this.deps.client.apply(ref, body, FIELD_MANAGER, true);
    else await this.deps.client.create(ref, body);
  }

  /** The candidate's acceptance Job, made (generateName) and remembered until status records its uid. */
  private async startAcceptance(obs: Observed, cr: ClinicalModel, image: string, log: Logger): Promise<void> {
    const sha = cr.spec.model.sha256.toLowerCase();
    this.deps.onWrite('jobs');
    const job = await this.deps.client.create<ObservedJob>({ group: 'batch', version: 'v1', plural: 'jobs', namespace: obs.namespace }, acceptanceJob(cr, image));
    this.memory.of(obs.key).acceptanceJobs.set(sha, { name: job.metadata!.name!, uid: job.metadata!.uid! });
    const message = `version ${cr.spec.model.version} (sha256 ${sha.slice(0, 12)}…) is a candidate: Job ${job.metadata?.name} runs acceptance on the holdout`;
    this.announce(obs, cr, [{ type: 'Normal', reason: 'AcceptanceStarted', message }], log);
  }

  /** One attempt at the current escalation's CloudEvent, recorded in status.notification and an Event. */
  private async notify(obs: Observed, cr: ClinicalModel, due: DueNotification, prev: NotificationStatus | undefined, log: Logger): Promise<void> {
    const spec = cr.spec.governance!.notify!;
    const { namespace, key } = obs;
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
    this.memory.of(key).notified = notification;
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

  /** The children side by side (they are independent): what changed. */
  private async applyChildren(cr: ClinicalModel, children: readonly Child[], log: Logger): Promise<ChildChange[]> {
    const changes = await Promise.all(children.map((c) => c.desired
      ? this.ensure(cr, c.kind, c.ref, c.desired, c.observed, log)
      : this.deps.client.delete(c.ref).then((gone): ChildChange | undefined => {
        this.deps.onWrite(c.ref.plural);
        return gone ? { kind: c.kind, name: c.ref.name ?? '', verb: 'deleted' } : undefined;
      })));
    return changes.filter((c): c is ChildChange => c !== undefined);
  }

  /** Apply a child if the observed object lacks any of the desired fields. Returns what changed, if anything. */
  private async ensure(cr: ClinicalModel, kind: string, ref: ResourceRef, desired: object, observed: Owned | undefined, log: Logger): Promise<ChildChange | undefined> {
    // The caches hold only objects labelled as ours. Before creating, make sure nobody else's
    // object has the name: applying over it would merge our intent into a stranger's object.
    observed ??= await this.deps.client.get<Owned>(ref, { fromCache: true });
    assertOwned(cr, kind, observed);
    const differs = observed ? difference(observed, desired) : '(absent)';
    if (!differs) return undefined;
    log.debug('apply needed', { child: `${kind}/${ref.name}`, field: differs });
    this.deps.onWrite(ref.plural);
    const result = await this.deps.client.apply<Owned>(ref, desired, FIELD_MANAGER, true);
    if (observed && result.metadata?.resourceVersion === observed.metadata?.resourceVersion) {
      // The server already held our intent; only our comparison saw a difference.
      log.debug('apply changed nothing', { child: kind });
      return undefined;
    }
    const verb = observed ? 'updated' : 'created';
    log.info(`${kind.toLowerCase()} ${verb}`, { child: `${kind}/${ref.name}`, field: differs });
    return { kind, name: ref.name ?? '', verb };
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
