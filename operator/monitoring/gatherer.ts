// Gathering what a drift check judges — the only part of it that reads anything: the reference the
// model was validated on (its ConfigMap, re-parsed only when it changed), the monitoring window of
// every ready replica, and the predictions that received ground truth. What it returns is a plain
// value (DriftInput) that drift/judge.ts judges without I/O. Predictions accumulate across checks
// until a judgement uses them; the reconciler then commits what was judged (once its result is in
// status), so each prediction is judged once.
import type { LabelledSample, WindowSample } from '../../contract/monitoring.js';
import type { ClinicalModel } from '../api/types.js';
import { parseSample } from '../drift/sample-file.js';
import type { KubeClient } from '../kube/client.js';
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
}

/** How many of the gathered samples a judgement used, to be dropped once its result is stored. */
export interface Consumed {
  window: number;
  feedback: number;
}

interface Reference {
  resourceVersion: string;
  values: number[];
}

export class DriftGatherer {
  private readonly windows = new Map<string, WindowCollector<WindowSample>>();
  private readonly feedback = new Map<string, WindowCollector<LabelledSample>>();
  private readonly references = new Map<string, Reference>();
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

    if (mon.reference?.configMapRef) {
      try {
        input.reference = { values: await this.reference(key, cr) };
      } catch (err) {
        input.reference = { error: (err as Error).message };
      }
    }
    const read = async <T extends { seq: number; time: string }>(c: WindowCollector<T>): Promise<SignalRead<T>> => {
      const r = await c.collect(endpoints, notBefore);
      return { samples: c.peek(), unreadable: r.errors, dropped: r.dropped };
    };
    if (input.reference && 'values' in input.reference) {
      input.window = await read(this.collector(this.windows, key, '/v1/monitoring/window'));
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
  }

  /** Forget the predictions gathered so far (the model changed level: a new regime starts). */
  reset(key: string): void {
    this.windows.get(key)?.clear();
    this.feedback.get(key)?.clear();
  }

  /** Forget a deleted model. */
  forget(key: string): void {
    this.windows.delete(key);
    this.feedback.delete(key);
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

  /** The reference values from the model's ConfigMap, re-parsed only when the ConfigMap changed. */
  private async reference(key: string, cr: ClinicalModel): Promise<number[]> {
    const ref = cr.spec.monitoring!.reference!.configMapRef!;
    const namespace = cr.metadata.namespace ?? 'default';
    const dataKey = ref.key ?? 'reference.json';
    const where = `ConfigMap ${namespace}/${ref.name} key ${dataKey}`;
    const cm = await this.client.get<{ metadata: { resourceVersion: string }; data?: Record<string, string> }>(
      { group: '', version: 'v1', plural: 'configmaps', namespace, name: ref.name },
    ).catch((err: unknown) => {
      throw new Error(`reference ${where} cannot be read: ${(err as Error).message}`);
    });
    if (!cm) throw new Error(`reference ${where}: the ConfigMap does not exist`);
    const cached = this.references.get(key);
    if (cached && cached.resourceVersion === cm.metadata.resourceVersion) return cached.values;
    const text = cm.data?.[dataKey];
    if (text === undefined) throw new Error(`reference ${where}: the key does not exist`);
    const values = parseSample(text, `reference ${where}`);
    this.references.set(key, { resourceVersion: cm.metadata.resourceVersion, values });
    return values;
  }
}
