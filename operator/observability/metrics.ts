// The operator's Prometheus metrics, in a registry of its own so two operators in one process (as in
// the leader-election tests) do not collide.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { DriftStatus } from '../api/types.js';
import type { SignalJudgement } from '../drift/signals.js';

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
  private readonly reviewOverdue: Gauge<'namespace' | 'model'>;
  private readonly signalPsi: Gauge<'namespace' | 'model' | 'signal'>;
  private readonly signalEffect: Gauge<'namespace' | 'model' | 'signal'>;
  private readonly signalPValue: Gauge<'namespace' | 'model' | 'signal'>;
  private readonly signalDrifted: Gauge<'namespace' | 'model' | 'signal'>;
  private readonly signalGauges: Array<Gauge<'namespace' | 'model' | 'signal'>>;
  /** The signals each model has series for. */
  private readonly signals = new Map<string, Set<string>>();

  constructor(registry: Registry) {
    const gauge = (name: string, help: string) => new Gauge({ name, help, labelNames: ['namespace', 'model'] as const, registers: [registry] });
    this.psi = gauge('clinops_drift_psi', 'Population Stability Index of the last drift check that had enough predictions.');
    this.ksStatistic = gauge('clinops_drift_ks_statistic', 'Two-sample Kolmogorov–Smirnov statistic D of the last drift check that had enough predictions.');
    this.ksPValue = gauge('clinops_drift_ks_pvalue', 'Two-sided KS p-value of the last drift check that had enough predictions.');
    this.level = gauge('clinops_escalation_level', 'Current escalation level of the model (0 none, 1 alert, 2 paused, 3 shut down).');
    this.reviewOverdue = gauge('clinops_review_overdue', '1 while a review of the model is overdue (spec.governance.reviewEvery, or escalation level 1\'s review), else 0.');
    const signalGauge = (name: string, help: string) =>
      new Gauge({ name, help, labelNames: ['namespace', 'model', 'signal'] as const, registers: [registry] });
    this.signalPsi = signalGauge('clinops_drift_signal_psi', 'PSI of each drift signal (confidence, labels, each declared input feature) in the last check that had enough predictions.');
    this.signalEffect = signalGauge('clinops_drift_signal_statistic',
      'Effect size of each drift signal: KS D (for a feature, the lower bound its bins give) or, for labels, the total variation distance.');
    this.signalPValue = signalGauge('clinops_drift_signal_pvalue', 'p-value of each drift signal (features: Benjamini–Hochberg adjusted across features).');
    this.signalDrifted = signalGauge('clinops_drift_signal_verdict', 'Verdict of each drift signal: 0 no drift, 1 moderate, 2 significant.');
    this.signalGauges = [this.signalPsi, this.signalEffect, this.signalPValue, this.signalDrifted];
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

  /**
   * Every signal of a check that had enough predictions, by `signal`: confidence, labels, or a feature
   * the ClinicalModel declares (so the label's values are bounded by the spec). Series of signals the
   * check no longer has (a feature removed from the spec) are removed.
   */
  observeSignals(namespace: string, model: string, signals: readonly SignalJudgement[]): void {
    const key = `${namespace}/${model}`;
    const now = new Set(signals.map((s) => s.signal));
    for (const old of this.signals.get(key) ?? []) {
      if (!now.has(old)) for (const g of this.signalGauges) g.remove({ namespace, model, signal: old });
    }
    this.signals.set(key, now);
    for (const s of signals) {
      const labels = { namespace, model, signal: s.signal };
      this.signalPsi.set(labels, s.psi);
      this.signalEffect.set(labels, s.effect);
      this.signalPValue.set(labels, s.adjustedP);
      this.signalDrifted.set(labels, s.verdict === 'Significant' ? 2 : s.verdict === 'Moderate' ? 1 : 0);
    }
  }

  observeReview(namespace: string, model: string, overdue: boolean): void {
    this.reviewOverdue.set({ namespace, model }, overdue ? 1 : 0);
  }

  forget(namespace: string, model: string): void {
    for (const g of [this.psi, this.ksStatistic, this.ksPValue, this.level, this.reviewOverdue]) g.remove({ namespace, model });
    for (const signal of this.signals.get(`${namespace}/${model}`) ?? []) {
      for (const g of this.signalGauges) g.remove({ namespace, model, signal });
    }
    this.signals.delete(`${namespace}/${model}`);
  }
}
