// Gathering what a drift check judges — the only part of it that reads anything: the reference the
// model was validated on (its ConfigMap, re-parsed only when it changed), the monitoring window of
// every ready replica, and the predictions that received ground truth. What it returns is a plain
// value (DriftInput) that drift/judge.ts judges without I/O. Predictions accumulate across checks
// until a judgement uses them; the reconciler then commits what was judged (once its result is in
// status), so each prediction is judged once.
import type { LabelledSample, WindowSample } from '../../contract/monitoring.js';
import type { ClinicalModel } from '../api/types.js';
import { type FeatureReference, parseFeatureReference, parseLabelCounts } from '../drift/reference-files.js';
import { parseSample } from '../drift/sample-file.js';
import type { KubeClient } from '../kube/client.js';
import { FeatureCountsCollector } from './counts-collector.js';
import { WindowCollector } from './window-collector.js';

/** What was read of one of a model's signals: all samples not yet judged, and what went wrong reading. */
export interface SignalRead<T> {
  samples: readonly T[];
  /** Replicas that could not be read, with why. */
  unreadable: string[];
  /** A replica evicted samples before they were read. */
  dropped: boolean;
}

/** Everything one drift check judges, gathered. */
export interface DriftInput {
  now: number;
  /** Replicas (monitoring endpoints) asked. */
  replicas: number;
  /** The reference distribution: absent when none is configured; an error when it cannot be used. */
  reference?: { values: readonly number[] } | { error: string };
  /** The top-class confidences; read when the reference is usable. */
  window?: SignalRead<WindowSample>;
  /** The labelled predictions; read when a performance baseline is declared. */
  feedback?: SignalRead<LabelledSample>;
  /** The holdout's predicted-label counts (reference.labelsKey), or why they cannot be used. */
  labels?: { counts: Record<string, number> } | { error: string };
  /** Per-feature input drift (spec.monitoring.features): the reference's and the replicas' bin counts. */
  features?: FeaturesRead | { error: string };
}

export interface FeaturesRead {
  reference: FeatureReference;
  /** The counts summed over replicas since they were last judged, per feature (the reference's order). */
  counts?: readonly (readonly number[])[];
  /** Predictions the counts cover. */
  samples: number;
  unreadable: string[];
  dropped: boolean;
}

/** What a judgement used, to be dropped once its result is stored. */
export interface Consumed {
  window: number;
  feedback: number;
  /** The feature counts gathered so far. */
  features: boolean;
}

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
  private readonly feedback = new Map<string, WindowCollector<LabelledSample>>();
  private readonly counts = new Map<string, FeatureCountsCollector>();
  /** Models whose counts collector skips its first read (see gather). */
  private readonly skipping = new Set<string>();
  private readonly references = new Map<string, Parsed>();
  /** When each model was last checked by this process (the status may not show it yet). */
  private readonly lastChecks = new Map<string, number>();

  constructor(
    private readonly client: Pick<KubeClient, 'get'>,
    private readonly fetchFn: typeof fetch = fetch,
  ) {}

  lastCheck(key: string): number | undefined {
    return this.lastChecks.get(key);
  }

  async gather(key: string, cr: ClinicalModel, endpoints: readonly string[], now: number): Promise<DriftInput> {
    this.lastChecks.set(key, now);
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
      if (mon.features) {
        const names = mon.features;
        const reference = attempt(ref.featuresKey ?? 'features.json', names.join('\n'), (text, where) => parseFeatureReference(text, where, names));
        input.features = 'error' in reference ? reference : { reference, samples: 0, unreadable: [], dropped: false };
      }
    }
    const read = async <T extends { seq: number; time: string }>(c: WindowCollector<T>): Promise<SignalRead<T>> => {
      const r = await c.collect(endpoints, notBefore);
      return { samples: c.peek(), unreadable: r.errors, dropped: r.dropped };
    };
    if (input.reference && 'values' in input.reference) {
      input.window = await read(this.collector(this.windows, key, '/v1/monitoring/window'));
      if (input.features && 'reference' in input.features) {
        let c = this.counts.get(key);
        if (!c) {
          // Counts cannot be split by time: a process that finds earlier checks in status (it is new, the
          // model is not) skips what the replicas it first reads counted before; checks of its own never do.
          this.counts.set(key, (c = new FeatureCountsCollector(this.fetchFn)));
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
    }
    if (Object.values(mon.performance?.baseline ?? {}).some((v) => v !== undefined)) {
      input.feedback = await read(this.collector(this.feedback, key, '/v1/monitoring/feedback'));
    }
    return input;
  }

  /** Drop what a judgement used; call once its result is written to status. */
  commit(key: string, consumed: Consumed): void {
    if (consumed.window > 0) this.windows.get(key)?.drop(consumed.window);
    if (consumed.feedback > 0) this.feedback.get(key)?.drop(consumed.feedback);
    if (consumed.features) this.counts.get(key)?.clear();
  }

  /** Forget the predictions gathered so far (the model changed level: a new regime starts). */
  reset(key: string): void {
    this.windows.get(key)?.clear();
    this.feedback.get(key)?.clear();
    this.counts.get(key)?.clear();
  }

  /** Forget a deleted model. */
  forget(key: string): void {
    this.windows.delete(key);
    this.feedback.delete(key);
    this.counts.delete(key);
    this.skipping.delete(key);
    this.references.delete(key);
    this.lastChecks.delete(key);
  }

  private collector<T extends { seq: number; time: string }>(map: Map<string, WindowCollector<T>>, key: string, path: string): WindowCollector<T> {
    let c = map.get(key);
    if (!c) {
      c = new WindowCollector<T>(100_000, this.fetchFn, 5000, path);
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
