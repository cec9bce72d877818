// What the chart ships must agree with the code: the CRD copy with crds/, and every metric the alert
// rules and the Grafana dashboard query with a metric the operator or the server really exports.
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ServerMetrics } from '../../inference-server/metrics.js';
import { OperatorMetrics } from '../../operator/observability/metrics.js';

const root = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');
const files = join(root, 'charts', 'clinops', 'files');

it("the chart's CRDs are crds/ byte for byte (cp crds/*.yaml charts/clinops/files/ after a change)", () => {
  const names = readdirSync(join(root, 'crds'));
  expect(names.sort()).toEqual(['clinicalmodels.clinops.dev.yaml', 'revokedversions.clinops.dev.yaml']);
  expect(readdirSync(files).filter((n) => n.endsWith('.clinops.dev.yaml')).sort()).toEqual(names);
  for (const name of names) expect(readFileSync(join(files, name), 'utf8')).toBe(readFileSync(join(root, 'crds', name), 'utf8'));
});

async function exported(): Promise<Set<string>> {
  const names = new Set<string>();
  for (const registry of [new OperatorMetrics(() => 0).registry, new ServerMetrics('m').registry]) {
    for (const m of await registry.getMetricsAsJSON()) {
      names.add(m.name);
      if (m.type === ('histogram' as never)) for (const suffix of ['_bucket', '_sum', '_count']) names.add(m.name + suffix);
    }
  }
  return names;
}

/** Metric names in PromQL: identifiers that start with clinops_ (the project's prefix). */
const queried = (exprs: string[]) => new Set(exprs.flatMap((e) => e.match(/\bclinops_[a-z_]+/g) ?? []));

it('the Grafana dashboard queries only metrics the code exports, and covers what it promises', async () => {
  const dash = JSON.parse(readFileSync(join(files, 'grafana-dashboard.json'), 'utf8')) as {
    panels: Array<{ title: string; targets: Array<{ expr: string }> }>;
  };
  const exprs = dash.panels.flatMap((p) => p.targets.map((t) => t.expr));
  const names = await exported();
  const used = queried(exprs);
  expect([...used].filter((n) => !names.has(n))).toEqual([]);
  for (const m of ['clinops_inference_request_duration_seconds_bucket', 'clinops_predictions_total', 'clinops_inference_requests_total',
    'clinops_prediction_confidence_bucket', 'clinops_drift_psi', 'clinops_drift_ks_statistic', 'clinops_drift_ks_pvalue', 'clinops_escalation_level',
    'clinops_drift_signal_psi', 'clinops_drift_signal_verdict']) {
    expect(used).toContain(m);
  }
  expect(exprs.filter((e) => e.includes('histogram_quantile(0.99'))).not.toHaveLength(0);
});

it('the alert rules query only metrics the code exports', async () => {
  const text = readFileSync(join(files, 'prometheus-rules.yaml'), 'utf8');
  const exprs = [...text.matchAll(/expr: (\|\n(?:\s{10}.*\n)+|.*)/g)].map((m) => m[1]!);
  expect(exprs.length).toBe(11);
  const names = await exported();
  expect([...queried(exprs)].filter((n) => !names.has(n))).toEqual([]);
});
