// Which version of a model serves (pure): the declared one once it passed every gate it declares
// (acceptance, the go/no-go sign-off and what it lacks), the one accepted before it meanwhile or during
// its rollout, or none. Below acceptance, rollout, escalation and status, which all ask.
import type { ClinicalModel } from '../api/types.js';

/** spec.model is tried in a rollout before it serves: spec.rollout is set and another version serves. */
export function inRollout(cr: ClinicalModel): boolean {
  const accepted = cr.status?.acceptance?.accepted;
  return cr.spec.rollout !== undefined && accepted !== undefined && accepted.sha256 !== cr.spec.model.sha256.toLowerCase();
}

/** The model version to serve: spec.model, the version accepted before, or nothing. */
export interface Served {
  sha256: string;
  version: string;
  uri: string;
}

/** The go/no-go checklist of the protocol (§16.6), the default of spec.approval.items. */
export const PROTOCOL_CHECKLIST = ['performance-validation', 'infrastructure', 'monitoring', 'governance', 'compliance', 'go-no-go'];

/** A model whose versions pass gates before they serve (acceptance, approval, or a rollout that needs a version to roll back to). */
export function gated(cr: ClinicalModel): boolean {
  return cr.spec.acceptance !== undefined || approvalRequired(cr) || cr.spec.rollout !== undefined;
}

export function approvalRequired(cr: ClinicalModel): boolean {
  return cr.spec.approval !== undefined && cr.spec.approval.requireApproval !== false;
}

/** The go/no-go decision item: it needs spec.approval.distinctSigners different people, not only the version's submitter. */
export const DECISION_ITEM = 'go-no-go';

export const DEFAULT_DISTINCT_SIGNERS = 2;

/** Each checklist item not yet complete for the declared sha256, and what it lacks. */
export function approvalShortfall(cr: ClinicalModel): Array<{ item: string; lacks: string }> {
  if (!approvalRequired(cr)) return [];
  const sha = cr.spec.model.sha256.toLowerCase();
  const signed = (cr.spec.approval?.signatures ?? []).filter((x) => x.sha256.toLowerCase() === sha);
  const need = cr.spec.approval?.distinctSigners ?? DEFAULT_DISTINCT_SIGNERS;
  const submitter = cr.spec.model.submittedBy;
  const out: Array<{ item: string; lacks: string }> = [];
  for (const item of cr.spec.approval?.items ?? PROTOCOL_CHECKLIST) {
    const by = [...new Set(signed.filter((x) => x.item === item).map((x) => x.signedBy))];
    if (by.length === 0) out.push({ item, lacks: 'unsigned' });
    else if (item === DECISION_ITEM && by.length < need) out.push({ item, lacks: `signed by ${by.join(', ')}; needs ${need} different people` });
    else if (item === DECISION_ITEM && submitter !== undefined && by.every((x) => x === submitter)) {
      out.push({ item, lacks: `signed only by ${submitter}, who submitted this version; someone else must sign too` });
    }
  }
  return out;
}

/** The checklist items not yet complete for the declared sha256. */
export function missingItems(cr: ClinicalModel): string[] {
  return approvalShortfall(cr).map((x) => x.item);
}

/** The declared version passed acceptance (or none is asked for). */
export function acceptancePassed(cr: ClinicalModel): boolean {
  if (!cr.spec.acceptance) return true;
  const sha = cr.spec.model.sha256.toLowerCase();
  const a = cr.status?.acceptance;
  return a?.accepted?.sha256 === sha || (a?.candidate?.sha256 === sha && a.candidate.state === 'Passed');
}

/** The declared version may serve: every gate it declares is passed (a version once served stays servable). */
export function servable(cr: ClinicalModel): boolean {
  const sha = cr.spec.model.sha256.toLowerCase();
  return cr.status?.acceptance?.accepted?.sha256 === sha || (acceptancePassed(cr) && missingItems(cr).length === 0);
}

export function servedModel(cr: ClinicalModel): Served | undefined {
  const m = cr.spec.model;
  const spec = { sha256: m.sha256.toLowerCase(), version: m.version, uri: m.uri };
  // In a rollout the candidate runs beside the accepted version until it is promoted (it becomes the accepted one).
  if (!gated(cr) || (servable(cr) && !inRollout(cr))) return spec;
  const a = cr.status?.acceptance?.accepted;
  return a ? { sha256: a.sha256, version: a.version, uri: a.uri } : undefined;
}
