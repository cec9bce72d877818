// One drift check of one model: read the monitoring window of every ready replica, load the
// reference the model was validated on, and compare the top-class confidences with two-sample KS and
// PSI. Predictions accumulate across checks until there are minSamples of them; a check that judges
// them hands them over (commit) once its result is stored, so each prediction is judged once.
import type { ClinicalModel, DriftStatus } from '../api/types.js';
import type { KubeClient } from '../kube/client.js';
import { ks2samp } from '../statistics/ks-2samp.js';
import { psi } from '../statistics/psi.js';
import type { CheckFindings } from './escalation.js';
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
  private readonly collectors = new Map<string, WindowCollector>();
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
    this.collectors.get(key)?.drop(Number.MAX_SAFE_INTEGER);
  }

  /** Forget a deleted model. */
  forget(key: string): void {
    this.collectors.delete(key);
    this.references.delete(key);
    this.lastChecks.delete(key);
  }

  async check(key: string, cr: ClinicalModel, endpoints: readonly string[], now: number): Promise<DriftCheck> {
    this.lastChecks.set(key, now);
    const time = new Date(now).toISOString().replace(/\.\d+Z$/, 'Z');
    const mon = cr.spec.monitoring ?? {};
    const minSamples = mon.minSamples ?? 200;
    const insufficient = (samples: number, message: string): DriftCheck => ({
      drift: { lastCheckTime: time, samples, verdict: 'InsufficientData', replicasRead: 0, message },
      commit: () => undefined,
    });

    let reference: number[];
    try {
      reference = await this.reference(key, cr);
    } catch (err) {
      return insufficient(0, (err as Error).message);
    }

    let collector = this.collectors.get(key);
    if (!collector) {
      collector = new WindowCollector(100_000, this.fetchFn);
      this.collectors.set(key, collector);
    }
    // A collector without cursors (this process is new) skips what earlier checks already covered.
    const covered = [cr.status?.drift?.lastCheckTime, cr.status?.escalation?.since]
      .map((t) => (t ? Date.parse(t) : NaN)).filter((t) => !Number.isNaN(t));
    const read = await collector.collect(endpoints, covered.length > 0 ? Math.max(...covered) : undefined);
    const replicasRead = endpoints.length - read.errors.length;
    const notes: string[] = [];
    if (endpoints.length === 0) notes.push('no ready replica to read');
    if (read.errors.length > 0) notes.push(`unreadable: ${read.errors.join('; ')}`);
    if (read.dropped) notes.push('a replica evicted predictions before they were read (shorten spec.monitoring.interval)');

    const samples = collector.peek();
    if (samples.length < minSamples) {
      const check = insufficient(samples.length, [`${samples.length} of ${minSamples} predictions needed`, ...notes].join('; '));
      check.drift.replicasRead = replicasRead;
      return check;
    }
    const n = samples.length;
    const current = samples.map((s) => s.confidence);
    const ks = ks2samp(reference, current);
    const p = psi(reference, current, mon.psi?.bins ?? 10);
    const verdict = signalVerdict({ samples: n, psi: p.psi, ksPValue: ks.pValue }, {
      minSamples,
      psiModerate: mon.psi?.moderate ?? 0.1,
      psiSignificant: mon.psi?.significant ?? 0.2,
      ksPValue: mon.ks?.pValue ?? 0.05,
    });
    const summary = `${verdict === 'NoDrift' ? 'no drift' : `${verdict.toLowerCase()} drift`}: PSI ${round(p.psi)}, ` +
      `KS D ${round(ks.statistic)} (p ${ks.pValue.toPrecision(3)}) over ${n} predictions`;
    const drift: DriftStatus = {
      lastCheckTime: time,
      samples: n,
      verdict,
      psi: round(p.psi),
      ks: { statistic: round(ks.statistic), pValue: round(ks.pValue) },
      replicasRead,
    };
    if (notes.length > 0) drift.message = notes.join('; ');
    return {
      drift,
      findings: { driftLevel: driftLevel(verdict), psi: drift.psi, ksPValue: drift.ks!.pValue, summary },
      commit: () => collector.drop(n),
    };
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
