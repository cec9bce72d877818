// What a report says (pure): the model, its check history (the operator's history record) since a time,
// the thresholds it was judged against, the escalation timeline with incidents and who closed them, the
// acceptance and go/no-go history with signers, the decisions and the model card. `clinops report
// --json` prints this; the HTML form (html.ts) draws it.
import type { AcceptedModel, ClinicalModel, DecisionRecord, IncidentRecord, ModelCard } from '../../api/types.js';
import type { HistoryEntry } from '../history.js';

export interface ReportData {
  generatedAt: string;
  since: string;
  model: { name: string; namespace: string; version: string; sha256: string; labels: string[] };
  now: { phase?: string; level: number; reason?: string };
  thresholds: { psiModerate: number; psiSignificant: number; alertDip: number; pauseDip: number; baseline: { auroc?: number; sensitivity?: number; specificity?: number } };
  /** The method behind the estimated figures, as status says it. */
  estimateMethod?: string;
  checks: HistoryEntry[];
  /** Why the history is missing or partial, if it is. */
  historyNote?: string;
  escalation: Array<{ time: string; from: number; to: number; reason: string; reviewer?: string; estimated?: boolean }>;
  incidents: IncidentRecord[];
  accepted?: AcceptedModel;
  approvals: Array<{ version: string; sha256: string; approvedAt: string; signatures: Array<{ item: string; signedBy: string; seenAt: string }> }>;
  submittedBy?: string;
  decisions: DecisionRecord[];
  modelCard?: ModelCard;
}

/** The ConfigMap the operator writes a model's report into (spec.governance.reportEvery). */
export function reportName(model: string): string {
  return `${model}-report`;
}

export function reportData(cr: ClinicalModel, history: { entries: HistoryEntry[]; note?: string }, since: number, now: number): ReportData {
  const mon = cr.spec.monitoring ?? {};
  const after = (t: string | undefined) => t !== undefined && Date.parse(t) >= since;
  const s = cr.status ?? {};
  return {
    generatedAt: new Date(now).toISOString(),
    since: new Date(since).toISOString(),
    model: { name: cr.metadata.name, namespace: cr.metadata.namespace ?? 'default', version: cr.spec.model.version, sha256: cr.spec.model.sha256.toLowerCase(), labels: cr.spec.model.labels },
    now: { ...(s.phase ? { phase: s.phase } : {}), level: s.escalation?.level ?? 0, ...(s.escalation?.reason ? { reason: s.escalation.reason } : {}) },
    thresholds: {
      psiModerate: mon.psi?.moderate ?? 0.1, psiSignificant: mon.psi?.significant ?? 0.2,
      alertDip: mon.performance?.alertDip ?? 0.05, pauseDip: mon.performance?.pauseDip ?? 0.1, baseline: mon.performance?.baseline ?? {},
    },
    ...(s.drift?.performance?.estimated?.method ? { estimateMethod: s.drift.performance.estimated.method } : {}),
    checks: history.entries.filter((e) => after(e.t)),
    ...(history.note ? { historyNote: history.note } : {}),
    escalation: (s.escalation?.history ?? []).filter((h) => after(h.time)).map((h) => ({
      time: h.time, from: h.from, to: h.to, reason: h.reason, ...(h.reviewer ? { reviewer: h.reviewer } : {}), ...(h.estimated ? { estimated: true } : {}),
    })),
    incidents: (s.escalation?.incidents ?? []).filter((i) => after(i.openedAt) || after(i.closedAt) || !i.closedAt),
    ...(s.acceptance?.accepted ? { accepted: s.acceptance.accepted } : {}),
    approvals: (s.approval?.records ?? []).map((r) => ({ version: r.version, sha256: r.sha256, approvedAt: r.approvedAt,
      signatures: r.signatures.map((x) => ({ item: x.item, signedBy: x.signedBy, seenAt: x.seenAt })) })),
    ...(s.approval?.submittedBy ? { submittedBy: s.approval.submittedBy } : {}),
    decisions: s.decisions ?? [],
    ...(cr.spec.modelCard ? { modelCard: cr.spec.modelCard } : {}),
  };
}
