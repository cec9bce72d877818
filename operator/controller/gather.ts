// The one place a pass reads: the caches, the records it needs, the model's monitoring key, the drift
// check's input when one is due, the acceptance Job's pods and the shadow comparisons — into one
// Observed value that the phases decide from. (Two reads need a write first: the monitoring key's
// Secret is made when absent, and in Shadow the serving replicas' target is renewed as it is read.)
import { createHash, randomBytes } from 'node:crypto';
import type { ObservedJob, ObservedJobPod } from '../acceptance/gate.js';
import { KIND } from '../api/types.js';
import type { ClinicalModel } from '../api/types.js';
import { desiredMonitoringSecret, MONITORING_KEY, monitoringKeyName, monitoringKeyOf } from '../desired/monitoring-key.js';
import { isOperatorRecord, RecordConflictError, type RecordMeta } from '../desired/records.js';
import { serviceHost } from '../desired/service.js';
import { checkDue } from '../drift/schedule.js';
import { parseRecord, RECORD_LABEL, recordName } from '../escalation/record.js';
import type { Revocation } from '../escalation/revocation.js';
import { ApiError } from '../kube/client.js';
import { tlsFetch } from '../kube/tls-fetch.js';
import { CANDIDATE_LABEL, candidateName, sumShadow, type ShadowTotals } from '../rollout/rollout.js';
import { isReady } from '../serving/pods.js';
import { gated, inRollout } from '../serving/versions.js';
import type { Logger } from '../../contract/log.js';
import { type ReconcilerDeps, TerminalError } from './deps.js';
import type { Memory } from './memory.js';
import { CONFIGMAPS } from './phases/children.js';
import type { AcceptanceObserved, HoldTarget, Observed, RolloutObserved } from './pass.js';
import { DICOM_READ_MS, dicomCounts, monitoringUrl, shadowTargets } from './replicas.js';

export const SECRETS = { group: '', version: 'v1', plural: 'secrets' };

export class Gather {
  constructor(private readonly deps: ReconcilerDeps, private readonly memory: Memory) {}

  async observe(key: string, cr: ClinicalModel, log: Logger): Promise<Observed> {
    const { caches, gatherer } = this.deps;
    const namespace = cr.metadata.namespace ?? 'default';
    const name = cr.metadata.name;
    const mem = this.memory.of(key);
    const now = this.deps.clock();
    const record = await this.record(key, cr, log);
    // Before the check that reads the signals and the pods that mount the key.
    const monitoringKey = await this.monitoringKey(key, cr, log);
    const lastCheck = gatherer.lastCheck(key);
    const due = checkDue(cr, lastCheck, now);
    const shadowing = cr.status?.rollout?.step === 'Shadow';
    const podFetch = cr.spec.serving?.tls && (due || shadowing) ? await this.podFetch(key, cr) : undefined;
    const input = due ? await gatherer.gather(key, cr, this.endpoints(key, cr), now, monitoringKey, podFetch) : undefined;
    // A replica refusing the key: the Secret was replaced or removed; read it again next time.
    if (input && gatherer.refused(key)) delete mem.monitoringKey;
    const revocations = new Map<string, Revocation>();
    for (const sha of [cr.spec.model.sha256.toLowerCase(), cr.status?.acceptance?.accepted?.sha256]) {
      const r = sha ? caches.revokedVersion(namespace, sha) : undefined;
      if (sha && r) revocations.set(sha, r);
    }
    const candidate = caches.deployment(namespace, candidateName(name));
    const dicom = await this.dicom(key, cr, monitoringKey, now, podFetch);
    const holdTargets = cr.spec.integration?.dicom ? this.holdTargets(key, cr) : undefined;
    return {
      key, namespace, name, now,
      random: (this.deps.random ?? Math.random)(),
      cr,
      ...(record ? { record } : {}),
      monitoringKey,
      drift: { ...(lastCheck !== undefined ? { lastCheck } : {}), ...(input ? { input } : {}) },
      ...(mem.notified ? { notification: mem.notified } : {}),
      acceptance: await this.acceptance(key, cr),
      rollout: cr.spec.rollout || cr.status?.rollout || candidate ? await this.rollout(key, cr, monitoringKey, log, podFetch) : undefined,
      revocations,
      ...(dicom ? { dicom } : {}),
      ...(holdTargets ? { holdTargets } : {}),
      deployment: caches.deployment(namespace, name),
      service: caches.service(namespace, name),
      autoscaler: caches.autoscaler(namespace, name),
      candidate,
    };
  }

  /** The escalation record, when status has none and this process has not looked for this object's yet. */
  private async record(key: string, cr: ClinicalModel, log: Logger): Promise<Observed['record']> {
    const uid = cr.metadata.uid;
    if (cr.status?.escalation || !uid || this.memory.of(key).recordLookedFor === uid) return undefined;
    const name = recordName(cr.metadata.name);
    const found = await this.deps.client.get<RecordMeta & { data?: Record<string, string> }>({ ...CONFIGMAPS, namespace: cr.metadata.namespace ?? 'default', name }, { fromCache: true });
    // Only the operator's own record (labelled for this model: the admission policy lets nobody else write one).
    const ours = found !== undefined && !this.conflict(cr, 'ConfigMap', name, found.metadata?.labels?.[RECORD_LABEL] === cr.metadata.name, "the model's escalation record");
    const parsed = ours ? parseRecord(found.data) : undefined;
    if (ours && !parsed) log.warn('escalation record unreadable; starting at level 0', { configMap: name });
    return parsed ? { found: parsed } : {};
  }

  /**
   * Whether an object of a record's name is in the way (not the operator's): remembered for the model's
   * RecordConflict condition and announced once; a conflict it had is cleared when it is ours.
   */
  conflict(cr: ClinicalModel, kind: string, objectName: string, ours: boolean, what: string): boolean {
    const key = `${cr.metadata.namespace}/${cr.metadata.name}`;
    const seen = this.memory.conflict(key, `${kind}/${objectName}`, ours, new RecordConflictError(kind, objectName, what).message);
    if (seen.announce) {
      this.deps.log.warn(seen.announce, { kind: KIND, namespace: cr.metadata.namespace, name: cr.metadata.name, reason: 'RecordConflict' });
      void this.deps.recorder.record(cr, 'Warning', 'RecordConflict', seen.announce);
    }
    return seen.conflict;
  }

  /**
   * The model's monitoring key: read from its Secret once per model object, or made (32 random bytes) and
   * stored when the Secret is absent. A Secret of that name the operator did not make (no record label,
   * another owner) is refused, never used: whoever made it would know the key to the model's signals.
   */
  private async monitoringKey(key: string, cr: ClinicalModel, log: Logger): Promise<string> {
    const mem = this.memory.of(key);
    const uid = cr.metadata.uid ?? '';
    if (mem.monitoringKey?.uid === uid) return mem.monitoringKey.key;
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
    mem.monitoringKey = { uid, key: value };
    return value;
  }

  /**
   * How an HTTPS model's pods are read: verified against the CA in its TLS Secret (ca.crt) for its
   * Service's name. Made again when the Secret changes (its resourceVersion, from the watch cache).
   */
  async podFetch(key: string, cr: ClinicalModel): Promise<typeof fetch> {
    const mem = this.memory.of(key);
    const name = cr.spec.serving!.tls!.secretRef.name;
    const secret = await this.deps.client.get<{ metadata?: { resourceVersion?: string }; data?: Record<string, string> }>({ ...SECRETS, namespace: cr.metadata.namespace ?? 'default', name }, { fromCache: true });
    const ca = secret?.data?.['ca.crt'];
    if (!ca) throw new TerminalError(secret ? `Secret ${name} has no "ca.crt": spec.serving.tls needs the CA that signed its certificate` : `Secret ${name} (spec.serving.tls) does not exist`);
    const id = `${secret.metadata?.resourceVersion} ${serviceHost(cr)}`;
    if (mem.podFetch?.id !== id) mem.podFetch = { id, fetch: tlsFetch(Buffer.from(ca, 'base64').toString('utf8'), serviceHost(cr)) };
    return mem.podFetch.fetch;
  }

  /** The replicas' PACS counts, when the model takes studies and DICOM_READ_MS passed since the last read. */
  private async dicom(key: string, cr: ClinicalModel, monitoringKey: string, now: number, podFetch?: typeof fetch): Promise<Observed['dicom']> {
    const mem = this.memory.of(key);
    if (!cr.spec.integration?.dicom || (mem.dicomReadAt !== undefined && now - mem.dicomReadAt < DICOM_READ_MS)) return undefined;
    mem.dicomReadAt = now;
    const pods = this.deps.caches.pods(cr.metadata.namespace ?? 'default', cr.metadata.name);
    const fetchFn = podFetch ?? (cr.spec.serving?.tls ? await this.podFetch(key, cr) : this.deps.fetchFn ?? fetch);
    return dicomCounts(cr, pods, monitoringKey, fetchFn);
  }

  /**
   * The replicas a PACS model holds or releases: its ready pods, serving and candidate (or the URLs given
   * for it), each with the state it last confirmed to this process.
   */
  private holdTargets(key: string, cr: ClinicalModel): HoldTarget[] {
    const namespace = cr.metadata.namespace ?? 'default';
    const known = this.memory.of(key).holds;
    const explicit = this.deps.modelEndpoints.get(key);
    const pods = [...this.deps.caches.pods(namespace, cr.metadata.name), ...this.deps.caches.candidatePods(namespace, cr.metadata.name)].filter(isReady);
    const tls = cr.spec.serving?.tls !== undefined;
    const targets = explicit
      ? (pods.length > 0 ? explicit.map((url) => ({ id: url, pod: url, url })) : [])
      : [...new Map(pods.flatMap((p) => (p.status?.podIP && p.metadata?.uid ? [[p.metadata.uid, p] as const] : []))).values()].map((p) => {
        const restarts = p.status?.containerStatuses?.find((c) => c.name === 'server')?.restartCount ?? 0;
        return { id: `${p.metadata!.uid}:${restarts}`, pod: p.metadata!.name ?? '', url: monitoringUrl(p.status!.podIP!, tls) };
      });
    return targets.map((t) => {
      const confirmed = known?.get(t.id);
      return confirmed === undefined ? t : { ...t, confirmed };
    });
  }

  /** Where to read the model's monitoring signals: its ready pods, or the URLs given for it. */
  private endpoints(key: string, cr: ClinicalModel): string[] {
    const ready = this.deps.caches.pods(cr.metadata.namespace ?? 'default', cr.metadata.name).filter(isReady);
    const explicit = this.deps.modelEndpoints.get(key);
    // An explicit URL stands in for the pods, so it is read only while the model has a ready replica
    // (a paused model is not read).
    if (explicit) return ready.length > 0 ? [...explicit] : [];
    // Candidate pods in a canary carry the model's labels: their predictions are the model's too.
    return ready.flatMap((p) => (p.status?.podIP ? [monitoringUrl(p.status.podIP, cr.spec.serving?.tls !== undefined)] : []));
  }

  /**
   * The candidate's acceptance Job while the declared version is undecided: the Job this operator made, by
   * the uid status recorded (or this process remembers, while its status write is not yet seen) — never a
   * Job found by its name alone — with its pods (by its controller uid) and the holdout's digest.
   */
  private async acceptance(key: string, cr: ClinicalModel): Promise<AcceptanceObserved | undefined> {
    if (!gated(cr) || !cr.spec.acceptance) return undefined;
    const sha = cr.spec.model.sha256.toLowerCase();
    const acc = cr.status?.acceptance;
    if (acc?.accepted?.sha256 === sha || (acc?.candidate?.sha256 === sha && acc.candidate.state !== 'Running')) return undefined;
    const namespace = cr.metadata.namespace ?? 'default';
    const image = this.deps.settings.acceptanceImage ?? this.deps.settings.serverImage;
    const recorded = acc?.candidate?.sha256 === sha && acc.candidate.jobUid ? { name: acc.candidate.job!, uid: acc.candidate.jobUid } : this.memory.of(key).acceptanceJobs.get(sha);
    if (!recorded) return { image, pods: [] };
    const job = await this.deps.client.get<ObservedJob>({ group: 'batch', version: 'v1', plural: 'jobs', namespace, name: recorded.name });
    if (!job || job.metadata?.uid !== recorded.uid) return { image, recorded, ...(job ? { job } : {}), pods: [] };
    const pods = await this.deps.client.list<ObservedJobPod>({ group: '', version: 'v1', plural: 'pods', namespace },
      { labelSelector: `batch.kubernetes.io/controller-uid=${recorded.uid}` });
    const holdoutSha256 = await this.holdoutDigest(cr);
    return { image, recorded, job, pods: pods.items, ...(holdoutSha256 ? { holdoutSha256 } : {}) };
  }

  /** The sha256 of a holdout kept in a ConfigMap (a file on the model's claim the operator cannot read: undefined). */
  private async holdoutDigest(cr: ClinicalModel): Promise<string | undefined> {
    const ref = cr.spec.acceptance?.holdout.configMapRef;
    if (!ref) return undefined;
    const cm = await this.deps.client.get<{ data?: Record<string, string> }>({ ...CONFIGMAPS, namespace: cr.metadata.namespace ?? 'default', name: ref.name }, { fromCache: true });
    const text = cm?.data?.[ref.key ?? 'holdout.json'];
    return text === undefined ? undefined : createHash('sha256').update(text).digest('hex');
  }

  /**
   * The rollout's pods; in Shadow, the serving replicas' comparisons (their target renewed as they are
   * read) and, once enough were compared for a verdict, the reference's values.
   */
  private async rollout(key: string, cr: ClinicalModel, monitoringKey: string, log: Logger, podFetch?: typeof fetch): Promise<RolloutObserved> {
    const namespace = cr.metadata.namespace ?? 'default';
    const name = cr.metadata.name;
    const sha = cr.spec.model.sha256.toLowerCase();
    const candidatePods = this.deps.caches.candidatePods(namespace, name);
    const pods = this.deps.caches.pods(namespace, name);
    const servingPods = pods.filter((p) => !p.metadata?.labels?.[CANDIDATE_LABEL] && !p.metadata?.deletionTimestamp);
    const r = cr.status?.rollout;
    let shadow: ShadowTotals | undefined;
    let reference: readonly number[] | undefined;
    if (r?.step === 'Shadow' && r.sha256 === sha && inRollout(cr)) {
      const tls = cr.spec.serving?.tls !== undefined;
      const urls = candidatePods.filter(isReady).flatMap((p) => (p.status?.podIP ? [monitoringUrl(p.status.podIP, tls)] : []));
      if (urls.length > 0) {
        const body = { sha256: sha, urls, token: monitoringKey, ttlSeconds: 120, ...(tls ? { serverName: serviceHost(cr) } : {}) };
        const reports = await shadowTargets(cr, pods, 'set', monitoringKey, podFetch ?? this.deps.fetchFn ?? fetch, log, body);
        const mine = reports.filter((x) => x.sha256 === sha);
        if (mine.length > 0) shadow = sumShadow(mine);
      }
      // The reference only for a verdict (a GET of its ConfigMap, parsed once per resourceVersion).
      if (shadow && shadow.compared >= (cr.spec.rollout?.shadow?.requests ?? 200)) {
        const ref = await this.deps.gatherer.referenceValues(key, cr);
        if (Array.isArray(ref)) reference = ref;
      }
    }
    return { candidatePods, servingPods, ...(shadow ? { shadow } : {}), ...(reference ? { reference } : {}) };
  }
}
