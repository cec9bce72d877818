// The drift metrics per signal: one series per signal the check judged, labelled by the names the
// ClinicalModel declares, and none left behind for a feature the spec no longer names or a deleted model.
import { Registry } from 'prom-client';
import type { SignalJudgement } from '../../../../operator/drift/signals.js';
import { DriftMetrics } from '../../../../operator/observability/metrics.js';

const signal = (name: string, kind: SignalJudgement['kind'], psi: number): SignalJudgement =>
  ({ signal: name, kind, psi, effect: 0.2, pValue: 0.001, adjustedP: 0.004, verdict: psi > 0.2 ? 'Significant' : 'NoDrift' });

it('sets one series per signal and removes those of signals no longer judged', async () => {
  const registry = new Registry();
  const m = new DriftMetrics(registry);
  m.observeSignals('icu', 'sepsis', [signal('confidence', 'confidence', 0.01), signal('lactate', 'feature', 0.31), signal('wbc', 'feature', 0.02)]);
  let text = await registry.metrics();
  expect(text).toContain('clinops_drift_signal_psi{namespace="icu",model="sepsis",signal="lactate"} 0.31');
  expect(text).toContain('clinops_drift_signal_verdict{namespace="icu",model="sepsis",signal="lactate"} 2');
  expect(text).toContain('clinops_drift_signal_pvalue{namespace="icu",model="sepsis",signal="wbc"} 0.004');
  expect(text).toContain('clinops_drift_signal_statistic{namespace="icu",model="sepsis",signal="confidence"} 0.2');

  m.observeSignals('icu', 'sepsis', [signal('confidence', 'confidence', 0.01), signal('lactate', 'feature', 0.05)]);
  text = await registry.metrics();
  expect(text).not.toContain('signal="wbc"');
  expect(text).toContain('clinops_drift_signal_verdict{namespace="icu",model="sepsis",signal="lactate"} 0');

  m.forget('icu', 'sepsis');
  expect(await registry.metrics()).not.toMatch(/clinops_drift_signal_\w+\{/);
});
