// The report's content and charts from values: the history kept by the operator, the model's status.
import { charts, representative } from '../../../../operator/governance/report/charts.js';
import { reportData } from '../../../../operator/governance/report/data.js';
import { reportHtml } from '../../../../operator/governance/report/html.js';
import type { ClinicalModel } from '../../../../operator/api/types.js';
import { appended, decodeHistory, encodeHistory, historyEntry, type HistoryEntry } from '../../../../operator/governance/history.js';
import { clinicalModel } from '../fixtures.js';

const NOW = Date.parse('2026-11-30T12:00:00Z');
const entry = (t: string, more: Partial<HistoryEntry> = {}): HistoryEntry => ({ t, level: 0, verdict: 'NoDrift', psi: 0.02, ...more });

describe('the check history', () => {
  it('takes one small entry from a check\'s status, numbers only', () => {
    const cr = { ...clinicalModel(), status: { escalation: { level: 2 }, drift: {
      lastCheckTime: '2026-11-30T11:00:00Z', verdict: 'Moderate', psi: 0.14, samples: 400,
      signals: [{ name: 'lactate', kind: 'feature', verdict: 'Moderate', psi: 0.3, statistic: 0.2, pValue: 0.001 }],
      performance: { labelled: 0, estimated: { method: 'CBPE', cases: 400, positiveRate: 0.3, auroc: { value: 0.8, low: 0.75, high: 0.85 } },
        subgroups: [{ name: 'site-b', cases: 200, judged: true, judgedOn: 'estimated', estimated: { auroc: { value: 0.7, low: 0.6, high: 0.78 } }, level: 2 }] },
    } } } as ClinicalModel;
    expect(historyEntry(cr)).toEqual({ t: '2026-11-30T11:00:00Z', level: 2, verdict: 'Moderate', psi: 0.14, signals: [['lactate', 0.3]],
      est: { auroc: [0.8, 0.75, 0.85] }, groups: [{ name: 'site-b', est: [0.7, 0.6, 0.78], level: 2 }] });
    expect(historyEntry(clinicalModel())).toBeUndefined();
  });

  it('is bounded, replaces a repeated check, and survives its encoding; a foreign blob is refused', () => {
    let h: HistoryEntry[] = [];
    for (let i = 0; i < 30; i++) h = appended(h, entry(`2026-11-30T10:${String(i).padStart(2, '0')}:00Z`), 25);
    expect(h).toHaveLength(25);
    expect(appended(h, { ...h[24]!, level: 1 }, 25)).toHaveLength(25);
    expect(decodeHistory(encodeHistory(h)).entries).toEqual(h);
    expect(decodeHistory(Buffer.from('not gzip')).problem).toMatch(/cannot be read/);
  });
});

describe('the report', () => {
  const cr = { ...clinicalModel({ monitoring: { psi: { moderate: 0.1, significant: 0.2 }, performance: { baseline: { auroc: 0.9 } } } as never,
    modelCard: { intendedUse: 'adult ED chest X-rays' } }), status: {
    phase: 'Serving', escalation: { level: 1, reason: 'moderate drift',
      history: [{ time: '2026-10-01T00:00:00Z', from: 0, to: 1, reason: 'old' }, { time: '2026-11-29T00:00:00Z', from: 0, to: 1, reason: 'moderate drift', estimated: true }],
      incidents: [{ id: 'i-1', level: 2, openedAt: '2026-11-20T00:00:00Z', reason: 'dip', modelVersion: '3.0.0', sha256: 'a'.repeat(64), closedAt: '2026-11-21T00:00:00Z', closedBy: 'dr-lee' }] },
    approval: { records: [{ sha256: 'a'.repeat(64), version: '3.0.0', approvedAt: '2026-11-10T00:00:00Z', signatures: [{ item: 'go-no-go', signedBy: 'dr-park', sha256: 'a'.repeat(64), seenAt: '2026-11-09T00:00:00Z' }] }] },
    decisions: [{ reviewer: 'dr-lee', finding: 'Drift', decision: 'Accept', reason: 'scanner change reviewed', until: '2026-12-30T00:00:00Z', seenAt: '2026-11-29T01:00:00Z', active: true }],
  } } as ClinicalModel;
  const history = [entry('2026-10-01T00:00:00Z'), entry('2026-11-29T00:00:00Z', { level: 1, verdict: 'Moderate', psi: 0.15, signals: [['confidence', 0.15], ['lactate', 0.3]],
    est: { auroc: [0.85, 0.8, 0.9] }, real: { labelled: 60, auroc: 0.84 }, groups: [{ name: 'site-b', est: [0.7, 0.6, 0.78] }] })];

  it('covers the period asked for: checks, the escalation timeline, incidents, approvals with signers, decisions, the card', () => {
    const r = reportData(cr, { entries: history }, NOW - 30 * 86_400_000, NOW);
    expect(r.checks.map((c) => c.t)).toEqual(['2026-11-29T00:00:00Z']);
    expect(r.escalation).toEqual([{ time: '2026-11-29T00:00:00Z', from: 0, to: 1, reason: 'moderate drift', estimated: true }]);
    expect(r.incidents.map((i) => i.id)).toEqual(['i-1']);
    expect(r.approvals[0]!.signatures).toEqual([{ item: 'go-no-go', signedBy: 'dr-park', seenAt: '2026-11-09T00:00:00Z' }]);
    expect(r.decisions[0]).toMatchObject({ reviewer: 'dr-lee', decision: 'Accept', active: true });
    expect(r.modelCard).toEqual({ intendedUse: 'adult ED chest X-rays' });
    expect(r.thresholds).toMatchObject({ psiModerate: 0.1, psiSignificant: 0.2, alertDip: 0.05, pauseDip: 0.1, baseline: { auroc: 0.9 } });
  });

  it('draws drift per signal with its thresholds, estimated against realized AUROC per group, and the level', () => {
    const c = charts(reportData(cr, { entries: history }, NOW - 90 * 86_400_000, NOW));
    expect(c.map((x) => x.title)).toEqual(['Drift per signal (PSI) against its thresholds', 'AUROC: estimated (band: its range) and realized, per subgroup', 'Escalation level']);
    const drift = (c[0]!.spec.layer as Array<{ data: { values: Array<{ signal?: string; y?: number }> } }>);
    expect(new Set(drift[0]!.data.values.map((v) => v.signal))).toEqual(new Set(['confidence', 'lactate']));
    expect(drift[1]!.data.values.map((v) => v.y)).toEqual([0.1, 0.2]);
    const perf = (c[1]!.spec.layer as Array<{ data: { values: Array<{ group: string; kind: string }> } }>)[1]!.data.values;
    expect(perf.map((v) => `${v.group} ${v.kind}`)).toEqual(['all estimated', 'all realized', 'site-b estimated']);
    expect(charts(reportData(cr, { entries: [] }, NOW - 86_400_000, NOW))).toEqual([]);
  });

  it('is one page of inline SVG charts and escaped text, with no script and no URL to fetch', async () => {
    const hostile = { ...cr, spec: { ...cr.spec, modelCard: { intendedUse: '<script>alert(1)</script> & <img src=https://evil.example/x>' } } } as ClinicalModel;
    const html = await reportHtml(reportData(hostile, { entries: history }, NOW - 90 * 86_400_000, NOW));
    expect(html.match(/<svg/g)).toHaveLength(3);
    expect(html).not.toMatch(/<script|<img|<link|@import/i);
    expect(html).toContain('&#60;script&#62;alert(1)&#60;/script&#62; &#38; &#60;img src=https://evil.example/x&#62;');
    expect(html).toContain('check time');
  });

  it('draws weeks of checks as a few hundred points, keeping the worst of each run', () => {
    const many = Array.from({ length: 2000 }, (_, i) => ({ level: i === 1234 ? 2 : 0, psi: i === 777 ? 0.9 : 0.01, i }));
    const drawn = representative(many, 300);
    expect(drawn.length).toBeLessThanOrEqual(300);
    expect(drawn.map((x) => x.i)).toEqual(expect.arrayContaining([1234, 777]));
    expect(representative(many.slice(0, 10), 300)).toHaveLength(10);
  });

  it('fits a ConfigMap even for the largest history: 2,000 checks, five signals, twenty groups, drawn with fewer points', async () => {
    const groups = Array.from({ length: 20 }, (_, g) => ({ name: `site-${g}`, est: [0.9, 0.85, 0.95] as [number, number, number], real: 0.9 }));
    const entries = Array.from({ length: 2000 }, (_, i) => entry(new Date(Date.UTC(2026, 10, 1) + i * 300_000).toISOString(), {
      signals: [['confidence', 0.1], ['lactate', 0.2], ['map', 0.15], ['wbc', 0.12], ['spo2', 0.11]], est: { auroc: [0.9, 0.88, 0.92] }, real: { labelled: 60, auroc: 0.9 }, groups }));
    const data = reportData(cr, { entries }, Date.UTC(2026, 9, 1), Date.UTC(2026, 11, 1));
    const sizes = [];
    for (const points of [120, 30, 10]) sizes.push(Buffer.byteLength(await reportHtml(data, points)));
    expect(sizes[0]!).toBeGreaterThan(sizes[2]!);
    expect(sizes[2]!).toBeLessThan(900 * 1024);
  });
});

