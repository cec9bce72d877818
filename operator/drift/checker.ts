// One drift check of one model: read the monitoring window of every ready replica, load the
// reference the model was validated on, and compare the top-class confidences with two-sample KS and
// PSI; and, when the model declares a validated baseline, read the predictions that received ground
// truth and measure the performance dip. Predictions accumulate across checks until there are enough
// of them; a check that judges them hands them over (commit) once its result is stored, so each
// prediction is judged once.
import type { LabelledSample, WindowSample } from '../../contract/monitoring.js';
import type { ClinicalModel, DriftStatus, PerformanceStatus } from '../api/types.js';
import type { KubeClient } from '../kube/client.js';
import { ks2samp } from '../statistics/ks-2samp.js';
import { psi } from '../statistics/psi.js';
import type { CheckFindings } from './escalation.js';
import { performance } from './performance.js';
import { rfc3339 } from '../util/time.js';
import { parseSample } from './sample-file.js';
import { driftLevel, signalVerdict } from './verdict.js';
import { WindowCollector } from './window-collector.js';

export interface DriftCheck {
  drift: DriftStatus;
  /** What the check found, for the escalation state machine; undefined when nothing was judged. */
  findings?: CheckFindings;
  /** Drop the judged predictions; call once the result is written to status. */
  commit(): void;
}

interface Reference {
  resourceVersion: string;
  values: number[];
}

const round = (x: number) => Number(x.toPrecision(6));

export class DriftChecker {
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

  /** Forget the predictions collected so far (the model changed level: a new regime starts). */
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

  async check(key: string, cr: ClinicalModel, endpoints: readonly string[], now: number): Promise<DriftCheck> {
    this.lastChecks.set(key, now);
    const mon = cr.spec.monitoring ?? {};
    // A collector without cursors (this process is new) skips what earlier checks already covered.
    const covered = [cr.status?.drift?.lastCheckTime, cr.status?.escalation?.since]
      .map((t) => (t ? Date.parse(t) : NaN)).filter((t) => !Number.isNaN(t));
    const notBefore = covered.length > 0 ? Math.max(...covered) : undefined;

    const drift: DriftStatus = { lastCheckTime: rfc3339(now), samples: 0, verdict: 'InsufficientData', replicasRead: 0 };
    const notes: string[] = [];
    const commits: Array<() => void> = [];
    const findings: CheckFindings = { summary: '' };
    const summaries: string[] = [];
    if (endpoints.length === 0) notes.push('no ready replica to read');

    // 1. The top-class confidences against the reference distribution.
    const referenceSet = mon.reference?.configMapRef !== undefined;
    let reference: number[] | undefined;
    if (referenceSet) {
      try {
        reference = await this.reference(key, cr);
      } catch (err) {
        notes.push((err as Error).message);
      }
    }
    if (reference) {
      const collector = this.collector(this.windows, key, '/v1/monitoring/window');
      const read = await collector.collect(endpoints, notBefore);
      drift.replicasRead = endpoints.length - read.errors.length;
      if (read.errors.length > 0) notes.push(`unreadable: ${read.errors.join('; ')}`);
      if (read.dropped) notes.push('a replica evicted predictions before they were read (shorten spec.monitoring.interval)');
      const samples = collector.peek();
      const minSamples = mon.minSamples ?? 200;
      drift.samples = samples.length;
      if (samples.length < minSamples) {
        notes.unshift(`${samples.length} of ${minSamples} predictions needed`);
      } else {
        const n = samples.length;
        const current = samples.map((x) => x.confidence);
        const ks = ks2samp(reference, current);
        const p = psi(reference, current, mon.psi?.bins ?? 10);
        const verdict = signalVerdict({ samples: n, psi: p.psi, ksPValue: ks.pValue }, {
          minSamples,
          psiModerate: mon.psi?.moderate ?? 0.1,
          psiSignificant: mon.psi?.significant ?? 0.2,
          ksPValue: mon.ks?.pValue ?? 0.05,
        });
        Object.assign(drift, { verdict, psi: round(p.psi), ks: { statistic: round(ks.statistic), pValue: round(ks.pValue) } });
        Object.assign(findings, { driftLevel: driftLevel(verdict), psi: drift.psi, ksPValue: drift.ks!.pValue });
        summaries.push(`${verdict === 'NoDrift' ? 'no drift' : `${verdict.toLowerCase()} drift`}: PSI ${round(p.psi)}, ` +
          `KS D ${round(ks.statistic)} (p ${ks.pValue.toPrecision(3)}) over ${n} predictions`);
        commits.push(() => collector.drop(n));
      }
    }

    // 2. Performance on the predictions that received ground truth, against the validated baseline.
    const perf = mon.performance;
    const baseline = perf?.baseline ?? {};
    if (Object.values(baseline).some((v) => v !== undefined)) {
      const collector = this.collector(this.feedback, key, '/v1/monitoring/feedback');
      const read = await collector.collect(endpoints, notBefore);
      if (read.errors.length > 0 && !reference) notes.push(`unreadable: ${read.errors.join('; ')}`);
      if (!reference) drift.replicasRead = endpoints.length - read.errors.length;
      const positive = perf?.positiveLabel ?? cr.spec.model.labels[cr.spec.model.labels.length - 1] ?? '';
      const labelled = collector.peek();
      const minLabels = perf?.minLabels ?? 50;
      if (labelled.length < minLabels) {
        notes.push(`${labelled.length} of ${minLabels} labelled predictions needed for performance`);
      } else {
        const n = labelled.length;
        const r = performance(labelled.map((x) => ({
          positiveScore: x.probabilities[positive] ?? 0,
          predictedPositive: x.predicted === positive,
          actuallyPositive: x.groundTruth === positive,
        })), baseline, minLabels);
        const status: PerformanceStatus = { labelled: n, dip: round(r.dip) };
        for (const k of ['auroc', 'sensitivity', 'specificity'] as const) if (r[k] !== undefined) status[k] = round(r[k]);
        drift.performance = status;
        Object.assign(findings, { dipLevel: r.level, dip: status.dip });
        const metrics = (['auroc', 'sensitivity', 'specificity'] as const)
          .filter((k) => baseline[k] !== undefined && r[k] !== undefined)
          .map((k) => `${k === 'auroc' ? 'AUROC' : k} ${round(r[k]!)} (baseline ${baseline[k]})`).join(', ');
        summaries.push(`performance dip ${(r.dip * 100).toFixed(1)}%: ${metrics} over ${n} labelled predictions`);
        commits.push(() => collector.drop(n));
      }
    } else if (!referenceSet) {
      notes.push('nothing to check: set spec.monitoring.reference.configMapRef (drift) or spec.monitoring.performance.baseline (performance)');
    }

    if (notes.length > 0) drift.message = notes.join('; ');
    const judged = findings.driftLevel !== undefined || findings.dipLevel !== undefined;
    findings.summary = summaries.join('; ');
    return {
      drift,
      findings: judged ? findings : undefined,
      commit: () => commits.forEach((c) => c()),
    };
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
    const ref = cr.spec.monitoring?.reference?.configMapRef;
    if (!ref) throw new Error('no reference distribution: set spec.monitoring.reference.configMapRef');
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
