// Gathering what a drift check judges — the only part of it that reads anything: the reference the
// model was validated on (its ConfigMap, re-parsed only when it changed), the monitoring window of
// every ready replica, and the ground truth reported to any of them, joined with the predictions in
// the model's label store (a Secret: it outlives checks and operator restarts). What it returns is a
// plain value (DriftInput) that drift/judge.ts judges without I/O. Predictions accumulate across checks
// until a judgement uses them; the reconciler then commits what was judged (once its result is in
// status), so each prediction is judged once; labelled predictions form a sliding window.
import type { GroundTruthSample, WindowSample } from '../../contract/monitoring.js';
import type { ClinicalModel } from '../api/types.js';
import { type FeatureReference, referenceForFeatures, parseLabelCounts, parseCalibration } from '../drift/reference-files.js';
import { parseSample } from '../drift/sample-file.js';
import { FIELD_MANAGER } from '../desired/labels.js';
import { objectMeta } from '../desired/meta.js';
import { ApiError, type KubeClient } from '../kube/client.js';
import { isOperatorRecord, OPERATOR_RECORD_LABEL, RecordConflictError } from '../desired/records.js';
import { parseDuration } from '../util/duration.js';
import { FeatureCountsCollector } from './counts-collector.js';
import { DEFAULT_LIMITS, LabelStore } from './label-store.js';
import type { Consumed, DriftInput, SignalRead, StoredPrediction } from '../drift/input.js';
import { WindowCollector } from './window-collector.js';

/** A reference ConfigMap as read, and its keys as parsed, kept while its resourceVersion stays. */
interface Parsed {
  /** Name and resourceVersion. */
  id: string;
  where: string;
  data: Record<string, string>;
  byKey: Map<string, unknown>;
}

export class DriftGatherer {
  private readonly windows = new Map<string, WindowCollector<WindowSample>>();
  private readonly feedback = new Map<string, WindowCollector<GroundTruthSample>>();
  /** Each model's latest predictions (ids and confidences only). */
  private readonly recent = new Map<string, Array<{ id: string; confidence: number }>>();
  /** Each model's label store, as loaded (for the model object uid) and changed since. */
  private readonly stores = new Map<string, { uid: string; store: LabelStore; problem?: string }>();
  private readonly counts = new Map<string, FeatureCountsCollector>();
  /** Models whose counts collector skips its first read (see gather). */
  private readonly skipping = new Set<string>();
  private readonly references = new Map<string, Parsed>();
  /** When each model was last checked by this process (the status may not show it yet). */
  private readonly lastChecks = new Map<string, number>();

  /** Each model's monitoring key, sent with every read of its replicas. */
  private readonly keys = new Map<string, string>();
  /** Each HTTPS model's fetch (its CA, its Service name). */
  private readonly fetchers = new Map<string, typeof fetch>();
  /** Models some replica of which refused the key at the last check. */
  private readonly refusing = new Set<string>();

  constructor(
    private readonly client: Pick<KubeClient, 'get' | 'getMetadata' | 'apply' | 'create'>,
    private readonly fetchFn: typeof fetch = fetch,
  ) {}

  /** A replica refused the model's monitoring key at the last check (401 or 403). */
  refused(key: string): boolean {
    return this.refusing.has(key);
  }

  /** The fetch a model's collectors read with: its monitoring key as the bearer token. */
  private authorized(key: string): typeof fetch {
    return (url, init) => {
      const token = this.keys.get(key);
      return (this.fetchers.get(key) ?? this.fetchFn)(url, token ? { ...init, headers: { ...(init?.headers as Record<string, string>), authorization: `Bearer ${token}` } } : init);
    };
  }

  lastCheck(key: string): number | undefined {
    return this.lastChecks.get(key);
  }

  /**
   * `podFetch`: how the model's pods are reached when they serve HTTPS (verified against the model's CA).
   */
  async gather(key: string, cr: ClinicalModel, endpoints: readonly string[], now: number, monitoringKey?: string, podFetch?: typeof fetch): Promise<DriftInput> {
    this.lastChecks.set(key, now);
    if (podFetch) this.fetchers.set(key, podFetch);
    else this.fetchers.delete(key);
    if (monitoringKey) this.keys.set(key, monitoringKey);
    else this.keys.delete(key);
    const mon = cr.spec.monitoring ?? {};
    // A collector without cursors (this process is new) skips what earlier checks already covered.
    const covered = [cr.status?.drift?.lastCheckTime, cr.status?.escalation?.since]
      .map((t) => (t ? Date.parse(t) : NaN)).filter((t) => !Number.isNaN(t));
    const notBefore = covered.length > 0 ? Math.max(...covered) : undefined;
    const input: DriftInput = { now, replicas: endpoints.length };

    const ref = mon.reference;
    if (ref?.configMapRef) {
      let cm: Parsed | { error: string };
      try {
        cm = await this.referenceMap(key, cr);
      } catch (err) {
        cm = { error: (err as Error).message };
      }
      const attempt = <T>(dataKey: string, variant: string, parse: (text: string, where: string) => T): T | { error: string } => {
        if ('error' in cm) return cm;
        try {
          return parsedKey(cm, dataKey, variant, parse);
        } catch (err) {
          return { error: (err as Error).message };
        }
      };
      const values = attempt(ref.configMapRef.key ?? 'reference.json', '', parseSample);
      input.reference = 'error' in values ? values : { values };
      if (ref.labelsKey) {
        input.labels = attempt(ref.labelsKey, '', (text, where) => ({ counts: parseLabelCounts(text, where) }));
      }
      if (ref.calibrationKey) {
        input.calibration = attempt(ref.calibrationKey, '', parseCalibration);
      }
      if (mon.features) {
        const names = mon.features;
        const reference = attempt(ref.featuresKey ?? 'features.json', names.join('\n'), (text, where) => referenceForFeatures(text, where, names));
        input.features = 'error' in reference ? reference : { reference, samples: 0, unreadable: [], dropped: false };
      }
    }
    const read = async <T extends { seq: number; time: string }>(c: WindowCollector<T>): Promise<SignalRead<T> & { fresh: readonly T[] }> => {
      const r = await c.collect(endpoints, notBefore);
      return { samples: c.peek(), fresh: c.peek().slice(c.size - r.added), unreadable: r.errors, dropped: r.dropped };
    };
    const drift = input.reference && 'values' in input.reference;
    const perf = Object.values(mon.performance?.baseline ?? {}).some((v) => v !== undefined);
    const windows = drift || perf ? await read(this.collector(this.windows, key, '/v1/monitoring/window')) : undefined;
    if (windows && drift) {
      input.window = windows;
      if (input.features && 'reference' in input.features) {
        let c = this.counts.get(key);
        if (!c) {
          // Counts cannot be split by time: a process that finds earlier checks in status (it is new, the
          // model is not) skips what the replicas it first reads counted before; checks of its own never do.
          this.counts.set(key, (c = new FeatureCountsCollector(this.authorized(key))));
          if (notBefore !== undefined) this.skipping.add(key);
        }
        if (c.started) this.skipping.delete(key);
        const r = await c.collect(endpoints, this.skipping.has(key), input.features.reference.bins);
        const totals = c.peek();
        Object.assign(input.features, {
          counts: totals?.counts,
          samples: totals?.counts[0]?.reduce((a, b) => a + b, 0) ?? 0,
          unreadable: r.errors,
          dropped: r.dropped,
        });
      }
    } else {
      this.windows.get(key)?.clear();
    }
    if (windows) {
      // The latest predictions, for the ids a retraining signal asks to relabel (models without a label store).
      const recent = [...(this.recent.get(key) ?? []), ...windows.fresh.map((x) => ({ id: x.id, confidence: x.confidence }))];
      this.recent.set(key, recent.slice(-RECENT));
    }
    if (windows && perf) {
      const entry = await this.labelStore(key, cr);
      const { store } = entry;
      const labels = cr.spec.model.labels;
      const positive = labels.indexOf(store.positive);
      for (const x of windows.fresh) {
        store.addPrediction({ id: x.id, time: Date.parse(x.time), confidence: x.confidence, predicted: x.label, score: x.probabilities?.[positive] ?? 0, ...(x.subgroup ? { subgroup: x.subgroup } : {}) });
      }
      const reports = this.collector(this.feedback, key, '/v1/monitoring/feedback');
      const truth = await read(reports);
      for (const t of truth.fresh) store.addLabel(t.predictionId, t.groundTruth, Date.parse(t.time));
      reports.clear();
      store.prune(now);
      input.feedback = {
        labelled: store.labelled(), fresh: store.fresh, awaiting: store.awaiting, waitingLabels: store.waitingLabels,
        unmatched: store.unmatched, expired: store.expired, unreadable: truth.unreadable, dropped: windows.dropped || truth.dropped,
        ...(entry.problem ? { problem: entry.problem } : {}),
      };
    }
    const errors = [...(input.window?.unreadable ?? []), ...(input.feedback?.unreadable ?? []),
      ...(input.features && 'unreadable' in input.features ? input.features.unreadable : [])];
    if (errors.some((e) => / HTTP 40[13]$/.test(e))) this.refusing.add(key);
    else this.refusing.delete(key);
    return input;
  }

  /** The model's reference confidences (spec.monitoring.reference), or why they cannot be used; undefined when none is declared. */
  async referenceValues(key: string, cr: ClinicalModel): Promise<readonly number[] | { error: string } | undefined> {
    const ref = cr.spec.monitoring?.reference?.configMapRef;
    if (!ref) return undefined;
    try {
      return parsedKey(await this.referenceMap(key, cr), ref.key ?? 'reference.json', '', parseSample);
    } catch (err) {
      return { error: (err as Error).message };
    }
  }

  /** Drop what a judgement used; call once its result is written to status. */
  commit(key: string, consumed: Consumed): void {
    if (consumed.window > 0) this.windows.get(key)?.drop(consumed.window);
    if (consumed.feedback > 0) this.stores.get(key)?.store.judged(consumed.feedback);
    if (consumed.features) this.counts.get(key)?.clear();
  }

  /** Forget the predictions gathered so far (the model changed level: a new regime starts). */
  reset(key: string): void {
    this.windows.get(key)?.clear();
    this.stores.get(key)?.store.restart();
    this.counts.get(key)?.clear();
  }

  /**
   * Ids of recent predictions worth relabelling: those without ground truth the model was least sure
   * of (from the label store when the model has one, else from the latest predictions read).
   */
  relabelCandidates(key: string, n = 20): string[] {
    const store = this.stores.get(key)?.store;
    if (store) return store.relabelCandidates(n);
    return [...(this.recent.get(key) ?? [])].sort((a, b) => a.confidence - b.confidence).slice(0, n).map((x) => x.id);
  }

  /**
   * Keep the model's label store in its Secret, if it changed (after the check's result is in status).
   * A failed write leaves it changed, to be written after the next check.
   */
  async save(key: string, cr: ClinicalModel): Promise<void> {
    const entry = this.stores.get(key);
    if (!entry || !entry.store.dirty) return;
    const { store } = entry;
    const namespace = cr.metadata.namespace ?? 'default';
    const ref = { ...SECRETS, namespace, name: labelStoreName(cr.metadata.name) };
    // Never over someone else's Secret of that name: it is neither adopted nor, with the model, deleted.
    const held = await this.client.getMetadata(ref);
    if (held && !isOperatorRecord(held, 'label-store', cr.metadata.uid)) {
      entry.problem = new RecordConflictError('Secret', ref.name, "the model's label store").message + '; labelled predictions are kept in memory only';
      return;
    }
    if (entry.problem?.startsWith(`Secret ${ref.name} exists`)) delete entry.problem;
    store.dirty = false;
    const body = {
      apiVersion: 'v1', kind: 'Secret', type: 'Opaque',
      metadata: {
        ...objectMeta(cr, ref.name, { [OPERATOR_RECORD_LABEL]: 'label-store' }),
        // The uid of the Secret checked above: a Secret put in its place meanwhile is a conflict, not an update.
        ...(held?.metadata?.uid ? { uid: held.metadata.uid } : {}),
      },
      data: { [STORE_KEY]: store.encode().toString('base64') },
    };
    try {
      if (held) await this.client.apply(ref, body, FIELD_MANAGER, true);
      else await this.client.create(ref, body);
    } catch (err) {
      store.dirty = true;
      // Made meanwhile: judged again at the next save.
      if (err instanceof ApiError && err.statusCode === 409) return;
      throw err;
    }
  }

  /** The model's label store, read from its Secret once per model object (a new store when there is none). */
  private async labelStore(key: string, cr: ClinicalModel) {
    const uid = cr.metadata.uid ?? '';
    const perf = cr.spec.monitoring?.performance ?? {};
    const positive = perf.positiveLabel ?? cr.spec.model.labels[cr.spec.model.labels.length - 1] ?? '';
    const limits = {
      ...DEFAULT_LIMITS,
      window: perf.window ?? DEFAULT_LIMITS.window,
      maxAgeMs: perf.labelWithin ? parseDuration(perf.labelWithin) : DEFAULT_LIMITS.maxAgeMs,
    };
    let entry = this.stores.get(key);
    if (entry && entry.uid === uid && entry.store.positive === positive &&
      entry.store.limits.window === limits.window && entry.store.limits.maxAgeMs === limits.maxAgeMs) return entry;
    if (entry && entry.uid === uid) {
      // The spec's window, age limit or positive label changed: the same predictions under new terms.
      const { store, problem } = LabelStore.decode(entry.store.encode(), positive, limits);
      entry = { uid, store, ...(problem ? { problem } : {}) };
    } else {
      const ref = { ...SECRETS, namespace: cr.metadata.namespace ?? 'default', name: labelStoreName(cr.metadata.name) };
      // Its labels first: a Secret of that name someone else made is never read.
      const held = await this.client.getMetadata(ref);
      const ours = held && isOperatorRecord(held, 'label-store', cr.metadata.uid);
      const secret = ours ? await this.client.get<{ data?: Record<string, string> }>(ref) : undefined;
      const bytes = secret?.data?.[STORE_KEY];
      const decoded = bytes ? LabelStore.decode(Buffer.from(bytes, 'base64'), positive, limits)
        : held && !ours ? { store: new LabelStore(positive, limits), problem: new RecordConflictError('Secret', ref.name, "the model's label store").message + '; labelled predictions are kept in memory only' }
          : { store: new LabelStore(positive, limits) };
      entry = { uid, store: decoded.store, ...(decoded.problem ? { problem: decoded.problem } : {}) };
    }
    this.stores.set(key, entry);
    return entry;
  }

  /** Forget a deleted model. */
  forget(key: string): void {
    this.windows.delete(key);
    this.feedback.delete(key);
    this.counts.delete(key);
    this.skipping.delete(key);
    this.references.delete(key);
    this.lastChecks.delete(key);
    this.keys.delete(key);
    this.fetchers.delete(key);
    this.refusing.delete(key);
    this.stores.delete(key);
    this.recent.delete(key);
  }

  private collector<T extends { seq: number; time: string }>(map: Map<string, WindowCollector<T>>, key: string, path: string): WindowCollector<T> {
    let c = map.get(key);
    if (!c) {
      c = new WindowCollector<T>(100_000, this.authorized(key), 5000, path);
      map.set(key, c);
    }
    return c;
  }

  /** The model's reference ConfigMap: its keys' parsed values are kept while its resourceVersion stays. */
  private async referenceMap(key: string, cr: ClinicalModel): Promise<Parsed> {
    const ref = cr.spec.monitoring!.reference!.configMapRef!;
    const namespace = cr.metadata.namespace ?? 'default';
    const where = `reference ConfigMap ${namespace}/${ref.name}`;
    const cm = await this.client.get<{ metadata: { name: string; resourceVersion: string }; data?: Record<string, string> }>(
      { group: '', version: 'v1', plural: 'configmaps', namespace, name: ref.name },
    ).catch((err: unknown) => {
      throw new Error(`${where} cannot be read: ${(err as Error).message}`);
    });
    if (!cm) throw new Error(`${where} does not exist`);
    const cached = this.references.get(key);
    const id = `${ref.name} ${cm.metadata.resourceVersion}`;
    if (cached?.id === id) return cached;
    const fresh: Parsed = { id, where, data: cm.data ?? {}, byKey: new Map() };
    this.references.set(key, fresh);
    return fresh;
  }
}

const SECRETS = { group: '', version: 'v1', plural: 'secrets' };
/** Latest predictions kept per model for relabelling requests. */
const RECENT = 1000;
const STORE_KEY = 'store.json.gz';

/** The Secret keeping a model's label store (owned by the model: it goes with it). */
export function labelStoreName(modelName: string): string {
  return `${modelName}-feedback`;
}

/** One key of a reference ConfigMap, parsed once per ConfigMap version (and, for features, per list of names). */
function parsedKey<T>(cm: Parsed, dataKey: string, variant: string, parse: (text: string, where: string) => T): T {
  const id = `${dataKey}\n${variant}`;
  if (cm.byKey.has(id)) return cm.byKey.get(id) as T;
  const where = `${cm.where} key ${dataKey}`;
  const text = cm.data[dataKey];
  if (text === undefined) throw new Error(`${where}: the key does not exist`);
  const value = parse(text, where);
  cm.byKey.set(id, value);
  return value;
}
