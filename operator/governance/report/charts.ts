// The report's charts as Vega-Lite specifications (pure): drift per signal over time with its thresholds,
// estimated against realized performance with the estimate's range, per subgroup, and the escalation
// level over time. html.ts renders each to an inline SVG; a chart with no data is left out.
import type { ReportData } from './data.js';

export interface Chart {
  title: string;
  spec: Record<string, unknown>;
}

const WIDTH = 640;
const time = { field: 't', type: 'temporal', title: 'check time', axis: { format: '%b %d %H:%M', labelAngle: -30 } };

/** At most this many checks drawn per chart: a report of weeks stays a few hundred KB and readable (2,000 checks of 5 signals and 3 groups: 0.5 MB). */
export const MAX_POINTS = 120;

/**
 * The checks a chart draws: all of them, or — past `max` — one per run of consecutive checks, the worst
 * of the run (highest level, then highest PSI), so no escalation or spike is thinned away.
 */
export function representative<T extends { level: number; psi?: number }>(checks: readonly T[], max = MAX_POINTS): T[] {
  if (checks.length <= max) return [...checks];
  const per = Math.ceil(checks.length / max);
  const out: T[] = [];
  for (let i = 0; i < checks.length; i += per) {
    const run = checks.slice(i, i + per);
    out.push(run.reduce((a, b) => (b.level > a.level || (b.level === a.level && (b.psi ?? 0) > (a.psi ?? 0)) ? b : a)));
  }
  return out;
}

export function charts(report: ReportData, maxPoints = MAX_POINTS): Chart[] {
  const r = { ...report, checks: representative(report.checks, maxPoints) };
  const out: Chart[] = [];
  // 1. Drift: the confidences' PSI and each drifted signal's, with the moderate and significant lines.
  const drift = r.checks.flatMap((c) => [
    ...(c.psi !== undefined ? [{ t: c.t, signal: 'confidence', psi: c.psi }] : []),
    ...(c.signals ?? []).filter(([name]) => name !== 'confidence').map(([signal, psi]) => ({ t: c.t, signal, psi })),
  ]);
  if (drift.length > 0) {
    out.push({
      title: 'Drift per signal (PSI) against its thresholds',
      spec: {
        width: WIDTH, height: 220,
        layer: [
          { data: { values: drift }, mark: { type: 'line', point: true }, encoding: { x: time, y: { field: 'psi', type: 'quantitative', title: 'PSI' }, color: { field: 'signal', type: 'nominal', title: 'signal' } } },
          { data: { values: [{ y: r.thresholds.psiModerate, what: 'moderate' }, { y: r.thresholds.psiSignificant, what: 'significant' }] },
            mark: { type: 'rule', strokeDash: [4, 4] }, encoding: { y: { field: 'y', type: 'quantitative' }, color: { value: '#b00' } } },
        ],
      },
    });
  }
  // 2. Performance: AUROC estimated (with its range) and realized, for everyone and per subgroup.
  const perf = r.checks.flatMap((c) => [
    ...(c.est?.auroc ? [{ t: c.t, group: 'all', kind: 'estimated', value: c.est.auroc[0], low: c.est.auroc[1], high: c.est.auroc[2] }] : []),
    ...(c.real?.auroc !== undefined ? [{ t: c.t, group: 'all', kind: 'realized', value: c.real.auroc }] : []),
    ...(c.groups ?? []).flatMap((g) => [
      ...(g.est ? [{ t: c.t, group: g.name, kind: 'estimated', value: g.est[0], low: g.est[1], high: g.est[2] }] : []),
      ...(g.real !== undefined ? [{ t: c.t, group: g.name, kind: 'realized', value: g.real }] : []),
    ]),
  ]);
  if (perf.length > 0) {
    const base = r.thresholds.baseline.auroc;
    out.push({
      title: 'AUROC: estimated (band: its range) and realized, per subgroup',
      spec: {
        width: WIDTH, height: 240,
        layer: [
          { data: { values: perf.filter((x) => x.kind === 'estimated') }, mark: { type: 'area', opacity: 0.15 },
            encoding: { x: time, y: { field: 'low', type: 'quantitative', title: 'AUROC', scale: { zero: false } }, y2: { field: 'high' }, color: { field: 'group', type: 'nominal', title: 'group' } } },
          { data: { values: perf }, mark: { type: 'line', point: true },
            encoding: { x: time, y: { field: 'value', type: 'quantitative', title: 'AUROC' }, color: { field: 'group', type: 'nominal', title: 'group' },
              strokeDash: { field: 'kind', type: 'nominal', title: 'figure' } } },
          ...(base !== undefined ? [{ data: { values: [{ y: base * (1 - r.thresholds.alertDip) }, { y: base * (1 - r.thresholds.pauseDip) }] },
            mark: { type: 'rule', strokeDash: [4, 4] }, encoding: { y: { field: 'y', type: 'quantitative' }, color: { value: '#b00' } } }] : []),
        ],
      },
    });
  }
  // 3. The escalation level over time.
  const levels = r.checks.map((c) => ({ t: c.t, level: c.level }));
  if (levels.length > 0) {
    out.push({
      title: 'Escalation level',
      spec: {
        width: WIDTH, height: 120, data: { values: levels },
        mark: { type: 'line', interpolate: 'step-after', point: true },
        encoding: { x: time, y: { field: 'level', type: 'quantitative', title: 'level', scale: { domain: [0, 3] }, axis: { tickCount: 4 } } },
      },
    });
  }
  return out;
}
