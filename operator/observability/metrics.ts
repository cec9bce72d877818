// The operator's Prometheus metrics, in a registry of its own so two operators in one process (as in
// the leader-election tests) do not collide.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { DriftStatus } from '../api/types.js';

export class OperatorMetrics {
  readonly registry = new Registry();
  readonly reconcileTotal = new Counter({
    name: 'clinops_reconcile_total',
    help: 'Reconcile passes of ClinicalModels, by result (success, requeue, conflict, error).',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  readonly reconcileDuration = new Histogram({
    name: 'clinops_reconcile_duration_seconds',
    help: 'Time one reconcile pass of a ClinicalModel took.',
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly apiWrites = new Counter({
    name: 'clinops_api_writes_total',
    help: 'Writes the operator sent to the Kubernetes API, by resource.',
    labelNames: ['resource'] as const,
    registers: [this.registry],
  });
  readonly drift = new DriftMetrics(this.registry);
  readonly queueDepth: Gauge;
  readonly isLeader = new Gauge({
    name: 'clinops_leader',
    help: '1 while this operator instance holds the leader lease.',
    registers: [this.registry],
  });

  constructor(queueLength: () => number) {
    this.queueDepth = new Gauge({
      name: 'clinops_workqueue_depth',
      help: 'ClinicalModel keys waiting in the work queue.',
      registers: [this.registry],
      collect() {
        this.set(queueLength());
      },
    });
    collectDefaultMetrics({ register: this.registry });
  }
}

/** Per-model drift and escalation gauges, labelled by namespace and model. */
export class DriftMetrics {
  private readonly psi: Gauge<'namespace' | 'model'>;
  private readonly ksStatistic: Gauge<'namespace' | 'model'>;
  private readonly ksPValue: Gauge<'namespace' | 'model'>;
  private readonly level: Gauge<'namespace' | 'model'>;

  constructor(registry: Registry) {
    const gauge = (name: string, help: string) => new Gauge({ name, help, labelNames: ['namespace', 'model'] as const, registers: [registry] });
    this.psi = gauge('clinops_drift_psi', 'Population Stability Index of the last drift check that had enough predictions.');
    this.ksStatistic = gauge('clinops_drift_ks_statistic', 'Two-sample Kolmogorov–Smirnov statistic D of the last drift check that had enough predictions.');
    this.ksPValue = gauge('clinops_drift_ks_pvalue', 'Two-sided KS p-value of the last drift check that had enough predictions.');
    this.level = gauge('clinops_escalation_level', 'Current escalation level of the model (0 none, 1 alert, 2 paused, 3 shut down).');
  }

  observe(namespace: string, model: string, drift: DriftStatus | undefined, level: number): void {
    const labels = { namespace, model };
    this.level.set(labels, level);
    if (drift?.psi !== undefined && drift.ks) {
      this.psi.set(labels, drift.psi);
      this.ksStatistic.set(labels, drift.ks.statistic);
      this.ksPValue.set(labels, drift.ks.pValue);
    }
  }

  forget(namespace: string, model: string): void {
    for (const g of [this.psi, this.ksStatistic, this.ksPValue, this.level]) g.remove({ namespace, model });
  }
}
