// Review cadence on the real control plane: a model whose periodic review falls due turns
// ReviewOverdue (condition, Warning Event, clinops_review_overdue 1); a named reviewer records a review
// and it is current again (Reviewed Event, metric 0, the next review due reviewEvery on).
import { jest } from '@jest/globals';
import type { ClinicalModel } from '../../operator/api/types.js';
import type { Operator } from '../../operator/operator.js';
import { createModelsClaim, deleteNamespaces, eventually, getJson, kubectl, model, newNamespace, startOperator } from './support.js';

jest.setTimeout(120_000);

let operator: Operator | undefined;
afterAll(async () => {
  await operator?.stop();
  await deleteNamespaces();
});

it('an overdue review raises its condition, Event and metric; a named reviewer\'s review clears them', async () => {
  const ns = await newNamespace('review');
  await createModelsClaim(ns);
  operator = await startOperator({ identity: 'review-1' });
  await kubectl(['apply', '--server-side', '-f', '-'], JSON.stringify(model(ns, 'sepsis', {
    serving: { replicas: 1, gpu: { count: 0 } }, governance: { reviewEvery: '15s' },
    modelCard: { intendedUse: 'ICU early warning', outOfScope: 'children', limitations: 'one site', trainingData: '2019–2023 admissions',
      performance: 'AUROC 0.87', owner: 'critical care informatics', contact: 'icu-ai@hospital.example' },
  })));
  const clm = () => getJson<ClinicalModel>(['-n', ns, 'get', 'clm', 'sepsis']);
  const condition = (c: ClinicalModel) => c.status?.conditions?.find((x) => x.type === 'ReviewOverdue');
  const metric = async () => Number(new RegExp(`clinops_review_overdue\\{namespace="${ns}",model="sepsis"\\} (\\d)`)
    .exec(await fetch(`http://127.0.0.1:${operator!.probePort}/metrics`).then((r) => r.text()))?.[1]);

  const due = await eventually('a review due', async () => {
    const c = await clm();
    return condition(c)?.status === 'False' ? c : undefined;
  });
  expect(condition(due)?.message).toMatch(/^the review every 15s is due by \S+ \(never reviewed\)$/);
  expect(await metric()).toBe(0);

  // Nobody reviews it: overdue, on time (the operator looks again when it falls due, not at the next resync).
  const late = await eventually('ReviewOverdue', async () => {
    const c = await clm();
    return condition(c)?.status === 'True' ? c : undefined;
  }, 30_000);
  expect(Date.parse(condition(late)!.lastTransitionTime) - Date.parse(late.status!.review!.dueBy!)).toBeLessThan(5000);
  expect(condition(late)?.message).toContain('a named reviewer records one in spec.governance.review');
  expect(await metric()).toBe(1);
  const events = async () => (await getJson<{ items: Array<{ reason: string; message: string }> }>(['-n', ns, 'get', 'events', '--field-selector', 'involvedObject.name=sepsis'])).items;
  expect((await events()).find((e) => e.reason === 'ReviewOverdue')?.message).toContain('the review every 15s was due by');

  // dr-lee reviews it.
  await kubectl(['-n', ns, 'patch', 'clm', 'sepsis', '--type=merge', '-p', JSON.stringify({ spec: { governance: { review: { reviewer: 'dr-lee', note: 'calibration and subgroups checked' } } } })]);
  const reviewed = await eventually('reviewed', async () => {
    const c = await clm();
    return condition(c)?.status === 'False' && c.status?.review?.reviewedBy === 'dr-lee' ? c : undefined;
  });
  const r = reviewed.status!.review!;
  expect(Date.parse(r.dueBy!) - Date.parse(r.lastReviewedAt!)).toBe(15_000);
  expect(r.note).toBe('calibration and subgroups checked');
  await eventually('metric 0', async () => (await metric()) === 0);
  expect((await events()).find((e) => e.reason === 'Reviewed')?.message).toMatch(/^reviewed by dr-lee: calibration and subgroups checked; next review due by /);
});
