// The chart's ValidatingAdmissionPolicies on the real API server, tried by the people a hospital's
// platform team would give ordinary edit rights to (personas.ts): every bypass is tried by the persona
// who could, and refused with a message that says who may; the legitimate path works.
import { jest } from '@jest/globals';
import type { ClinicalModel } from '../../operator/api/types.js';
import { OPERATOR_NAMESPACE, OPERATOR_SA } from '../../hack/cluster/install.js';
import { type Person, personas, type Personas } from './personas.js';
import { deleteNamespaces, eventually, getJson, kubectl, model, newNamespace, operatorKubeconfig } from './support.js';

jest.setTimeout(120_000);
const OPERATOR = `system:serviceaccount:${OPERATOR_NAMESPACE}:${OPERATOR_SA}`;
const SHA = 'a'.repeat(64);
const CARD = { intendedUse: 'ICU early warning', outOfScope: 'children', limitations: 'one site', trainingData: '2019–2023',
  performance: 'AUROC 0.87', owner: 'critical care informatics', contact: 'icu-ai@hospital.example' };

let ns: string;
let people: Personas;
const as = (who: Person | string, args: string[], input?: string) => people.as(who, args, input);
const denied = (policy: string) => people.denied(policy);
const patch = (name: string, body: object, ...extra: string[]) => ['-n', ns, 'patch', 'clm', name, '--type=merge', '-p', JSON.stringify(body), ...extra];
const ack = (reviewer: string, level = 2, note = 'reviewed the drift report') => patch('sepsis', { spec: { escalation: { acknowledgement: { reviewer, level, note } } } });
const statusPatch = (name: string, status: object) => ['-n', ns, 'patch', 'clm', name, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status })];
const clm = (name: string) => getJson<ClinicalModel>(['-n', ns, 'get', 'clm', name]);

beforeAll(async () => {
  ns = await newNamespace('admission');
  people = await personas(ns);
  await kubectl(['apply', '--server-side', '-f', '-'], JSON.stringify(model(ns, 'sepsis', { serving: { replicas: 0 } })));
  // The API server picks new policies up within a second or so: probe with a server-side dry run until one answers.
  let probe = 0;
  await eventually('the policies in force', async () => {
    const r = await as('nurse-kim', [...ack('dr-lee', 2, `probe ${++probe}`), '--dry-run=server']);
    return r.ok ? undefined : r.out;
  });
  // The operator's record: level 2, written by the operator's ServiceAccount (the policy lets it).
  expect(await as(operatorKubeconfig(), statusPatch('sepsis', { escalation: { level: 2, reason: 'test' } }))).toMatchObject({ ok: true });
});

afterAll(async () => {
  await people.remove();
  await deleteNamespaces();
});

it('refuses an acknowledgement in someone else\'s name or by someone who is not a clinical reviewer; takes the named reviewer\'s own', async () => {
  const refused = (await as('nurse-kim', ack('dr-lee'))).out;
  expect(refused).toContain(denied('acknowledgement') +
    'spec.escalation.acknowledgement.reviewer must be the person who writes it: you are nurse-kim, the acknowledgement names dr-lee');
  // In her own name, but level 2 needs a clinical reviewer.
  expect((await as('nurse-kim', ack('nurse-kim'))).out).toContain(
    'spec.escalation.acknowledgement: acknowledging level 2 needs a clinical reviewer (users none, groups clinical-reviewers), and nurse-kim is not one');
  // The model's own editor cannot acknowledge its escalation either.
  expect((await as('ml-eng', ack('ml-eng'))).out).toContain('and ml-eng is not one');
  // Level 1 may be acknowledged by anyone named.
  expect(await as('nurse-kim', [...ack('nurse-kim', 1), '--dry-run=server'])).toMatchObject({ ok: true });
  expect((await clm('sepsis')).spec.escalation?.acknowledgement).toBeUndefined();

  expect(await as('dr-lee', ack('dr-lee'))).toMatchObject({ ok: true });
  expect((await clm('sepsis')).spec.escalation?.acknowledgement).toMatchObject({ reviewer: 'dr-lee', level: 2 });
  // Someone else may change other fields while the acknowledgement stays as dr-lee wrote it …
  expect(await as('nurse-kim', ['-n', ns, 'label', 'clm', 'sepsis', 'ward=icu-3'])).toMatchObject({ ok: true });
  // … but not rewrite it, nor create a model acknowledged in another's name.
  expect((await as('nurse-kim', ack('dr-lee', 2, 'edited'))).out).toContain('you are nurse-kim, the acknowledgement names dr-lee');
  const other = model(ns, 'sepsis-2', { escalation: { acknowledgement: { reviewer: 'dr-lee', level: 1 } } });
  expect((await as('nurse-kim', ['apply', '-f', '-'], JSON.stringify(other))).out).toContain('you are nurse-kim, the acknowledgement names dr-lee');
  // A review is checked the same way, and needs a clinical reviewer.
  const review = (reviewer: string) => patch('sepsis', { spec: { modelCard: CARD, governance: { review: { reviewer, note: 'quarterly review' } } } });
  expect((await as('nurse-kim', review('dr-lee'))).out).toContain('spec.governance.review.reviewer must be the person who writes it: you are nurse-kim, the review names dr-lee');
  expect((await as('nurse-kim', review('nurse-kim'))).out).toContain('spec.governance.review needs a clinical reviewer');
  expect(await as('dr-lee', review('dr-lee'))).toMatchObject({ ok: true });
  // So is a decision about a finding, including one not to act: in the writer's name, by a clinical reviewer.
  const decision = (reviewer: string, reason = 'site B scanner change reviewed; outputs clinically sound') => patch('sepsis', { spec: { modelCard: CARD, governance: { decisions: [
    { reviewer, finding: 'Drift', decision: 'Accept', reason, until: '2030-01-01T00:00:00Z' }] } } });
  expect((await as('nurse-kim', decision('dr-lee'))).out).toContain('spec.governance.decisions: a new decision must name the person who writes it (reviewer), and you are nurse-kim');
  expect((await as('nurse-kim', decision('nurse-kim'))).out).toContain('spec.governance.decisions: recording a decision needs a clinical reviewer');
  expect(await as('dr-lee', decision('dr-lee'))).toMatchObject({ ok: true });
  // Carried along unchanged by someone else's edit: fine; rewritten in the decider's name: refused.
  expect(await as('nurse-kim', ['-n', ns, 'label', 'clm', 'sepsis', 'reviewed=yes'])).toMatchObject({ ok: true });
  expect((await as('nurse-kim', decision('dr-lee', 'nothing to see here at all'))).out).toContain('you are nurse-kim');
  const noUntil = patch('sepsis', { spec: { governance: { decisions: [{ reviewer: 'dr-lee', finding: 'Drift', decision: 'Accept', reason: 'acceptable for now' }] } } });
  expect((await as('dr-lee', noUntil)).out).toContain('an Accept decision needs until (when it expires)');
});

it('takes go/no-go signatures only from signers in their own name, and the submitter of a version only as themselves', async () => {
  // A model with a sign-off, submitted by the model editor.
  const spec = { model: { uri: 'pvc://models/gated/model.onnx', sha256: SHA, version: '1.0.0', labels: ['No sepsis', 'Sepsis'], submittedBy: 'ml-eng' },
    serving: { replicas: 0 }, approval: { signatures: [] } };
  expect((await as('ml-eng', ['apply', '-f', '-'], JSON.stringify(model(ns, 'signed', { ...spec, model: { ...spec.model, submittedBy: 'dr-lee' } })))).out)
    .toContain('spec.model.submittedBy must name you (ml-eng) when you declare a new spec.model.sha256');
  expect(await as('ml-eng', ['apply', '-f', '-'], JSON.stringify(model(ns, 'signed', spec)))).toMatchObject({ ok: true });
  expect((await as('ml-eng', patch('signed', { spec: { model: { submittedBy: 'dr-park' } } }))).out)
    .toContain('spec.model.submittedBy changes only with a new spec.model.sha256');
  const sign = (who: Person, signatures: Array<{ item: string; signedBy: string }>) => as(who,
    patch('signed', { spec: { approval: { signatures: signatures.map((x) => ({ ...x, sha256: SHA })) } } }));
  // The editor is no signer, not even in his own name.
  expect((await sign('ml-eng', [{ item: 'go-no-go', signedBy: 'ml-eng' }])).out).toContain(denied('acknowledgement') +
    'spec.approval.signatures: signing needs a go/no-go signer (users none, groups clinical-signers), and ml-eng is not one');
  expect((await sign('nurse-kim', [{ item: 'go-no-go', signedBy: 'dr-lee' }])).out)
    .toContain('spec.approval.signatures: a new signature must name the person who writes it (signedBy), and you are nurse-kim');
  // Two distinct signers, each in their own name; a signature already there is carried along by the next.
  expect(await sign('dr-lee', [{ item: 'go-no-go', signedBy: 'dr-lee' }])).toMatchObject({ ok: true });
  expect(await sign('dr-park', [{ item: 'go-no-go', signedBy: 'dr-lee' }, { item: 'go-no-go', signedBy: 'dr-park' }])).toMatchObject({ ok: true });
  expect((await clm('signed')).spec.approval?.signatures?.map((x) => x.signedBy)).toEqual(['dr-lee', 'dr-park']);
  // A new version: its submitter is whoever declares it.
  expect(await as('ml-eng', patch('signed', { spec: { model: { sha256: 'b'.repeat(64), version: '1.1.0', submittedBy: 'ml-eng' } } }))).toMatchObject({ ok: true });
});

it('keeps every part of status the operator\'s: nobody else marks a version accepted, approved or unescalated', async () => {
  for (const status of [
    { acceptance: { accepted: { sha256: SHA, version: '9.9.9', uri: 'pvc://models/x/model.onnx', acceptedAt: '2026-12-01T00:00:00Z' } } },
    { approval: { sha256: SHA, missing: [], approvedAt: '2026-12-01T00:00:00Z' } },
    { escalation: { level: 0, reason: 'cleared' } },
    { rollout: { step: 'Promoted', sha256: SHA } },
  ]) {
    const refused = await as('ml-eng', statusPatch('sepsis', status));
    expect(refused.ok).toBe(false);
    expect(refused.out).toContain(denied('status') + `status is written only by the clinops operator (${OPERATOR}), not by ml-eng`);
  }
  // Not even a governance administrator: status is observed, not declared.
  expect((await as('gov-admin', statusPatch('sepsis', { acceptance: { accepted: { sha256: SHA } } }))).out).toContain('not by gov-admin');
  expect((await clm('sepsis')).status?.escalation?.level).toBe(2);
  expect((await clm('sepsis')).status?.acceptance).toBeUndefined();
  // The operator writes its record.
  expect(await as(operatorKubeconfig(), statusPatch('sepsis', { escalation: { level: 0 } }))).toMatchObject({ ok: true });
  expect((await clm('sepsis')).status?.escalation?.level).toBe(0);
});

it('lets no editor weaken a gate once a model has one; a governance administrator may, and anyone may strengthen it', async () => {
  const gated = model(ns, 'gated', {
    model: { uri: 'pvc://models/gated/model.onnx', sha256: SHA, version: '1.0.0', labels: ['No sepsis', 'Sepsis'], submittedBy: 'ml-eng' },
    serving: { replicas: 0, apiKeySecretRef: { name: 'gated-keys' } },
    acceptance: { holdout: { configMapRef: { name: 'holdout' } }, minAuroc: 0.85, lowerBound: true },
    approval: { distinctSigners: 2 },
    governance: { reviewEvery: '90d', notify: { url: 'https://retrain.hospital.example/hook' } },
    modelCard: CARD,
  });
  expect(await as('ml-eng', ['apply', '-f', '-'], JSON.stringify(gated))).toMatchObject({ ok: true });
  const who = '; weakening a gate is for the governance administrators (users none, groups clinops-governance), and you are ml-eng';
  const tries: Array<[object, string]> = [
    [{ spec: { acceptance: null } }, 'spec.acceptance may not be removed'],
    [{ spec: { acceptance: { minAuroc: 0.5 } } }, 'spec.acceptance: a threshold may be raised, not lowered'],
    [{ spec: { acceptance: { maxEce: 0.5 } } }, 'spec.acceptance: a threshold may be raised, not lowered'],
    [{ spec: { acceptance: { lowerBound: false } } }, 'spec.acceptance: a threshold may be raised, not lowered'],
    [{ spec: { acceptance: { holdout: { configMapRef: { name: 'easy-holdout' } } } } }, 'spec.acceptance: the holdout and the positive label a version is judged on may not be changed'],
    [{ spec: { approval: null } }, 'spec.approval may not be removed'],
    [{ spec: { approval: { requireApproval: false } } }, 'spec.approval.requireApproval may not be turned off'],
    [{ spec: { approval: { items: ['go-no-go'] } } }, 'spec.approval.items: every checklist item stays (performance-validation, infrastructure, monitoring, governance, compliance removed)'],
    [{ spec: { approval: { distinctSigners: 1 } } }, 'spec.approval.distinctSigners may not fall'],
    [{ spec: { governance: null } }, 'spec.governance may not be removed'],
    [{ spec: { governance: { reviewEvery: '120d' } } }, 'spec.governance.reviewEvery may not be lengthened or removed (it is 90d)'],
    [{ spec: { governance: { reviewEvery: null } } }, 'spec.governance.reviewEvery may not be lengthened or removed (it is 90d)'],
    [{ spec: { governance: { notify: null } } }, 'spec.governance.notify may not be removed'],
    [{ spec: { serving: { apiKeySecretRef: null, allowUnauthenticated: true } } }, 'spec.serving.allowUnauthenticated may not be turned on for a governed model (it would answer anyone who can reach it)'],
    [{ spec: { escalation: { level3: { action: 'Alert' } } } }, "spec.escalation of a governed model: a level's action may not become milder (Alert < ScaleDown < Pause < Shutdown; now Alert, Pause, Shutdown)"],
    [{ spec: { escalation: { consecutiveBreaches: 5 } } }, "spec.escalation of a governed model: a level's action may not become milder (Alert < ScaleDown < Pause < Shutdown; now Alert, Pause, Shutdown) and consecutiveBreaches may not rise (now 2)"],
  ];
  for (const [body, message] of tries) {
    const r = await as('ml-eng', patch('gated', body));
    expect([JSON.stringify(body), r.ok]).toEqual([JSON.stringify(body), false]);
    expect(r.out).toContain(denied('governance') + message);
    expect(r.out).toContain(who);
  }
  // An empty checklist is refused by the schema itself, for everyone.
  expect((await as('gov-admin', patch('gated', { spec: { approval: { items: [] } } }))).out).toMatch(/spec\.approval\.items.*(should have at least 1 items|must have at least 1 items)/);
  // Stronger is fine for anyone: a higher threshold, more signers, a shorter cadence (in hours).
  expect(await as('ml-eng', patch('gated', { spec: { acceptance: { minAuroc: 0.9 }, approval: { distinctSigners: 3 }, governance: { reviewEvery: '30d12h' },
    escalation: { consecutiveBreaches: 1, level1: { action: 'Pause' } } } })))
    .toMatchObject({ ok: true });
  // A governance administrator may weaken it, on the record of the API server's audit log.
  expect(await as('gov-admin', patch('gated', { spec: { acceptance: { minAuroc: 0.8 }, approval: { distinctSigners: 2 }, governance: { reviewEvery: '180d' } } })))
    .toMatchObject({ ok: true });
  expect((await clm('gated')).spec).toMatchObject({ acceptance: { minAuroc: 0.8 }, approval: { distinctSigners: 2 }, governance: { reviewEvery: '180d' } });
});

it('keeps the operator\'s records its own: nobody else writes one, and only an administrator retires one', async () => {
  const record = (level: number) => JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap',
    metadata: { name: 'sepsis-escalation-record', namespace: ns, labels: { 'clinops.dev/escalation-record-of': 'sepsis' } },
    data: { 'record.json': JSON.stringify({ model: 'sepsis', uid: 'u', modelVersion: '1.0.0', sha256: SHA, writtenAt: '2026-11-22T00:00:00Z', escalation: { level } }) } });
  expect(await as(operatorKubeconfig(), ['apply', '-f', '-'], record(3))).toMatchObject({ ok: true });
  expect((await as('ml-eng', ['apply', '-f', '-'], record(0))).out).toContain('the escalation record is written only by the clinops operator');
  expect((await as('ml-eng', ['-n', ns, 'delete', 'configmap', 'sepsis-escalation-record'])).out)
    .toContain('only an administrator (admission.recordRetirers) retires an escalation record, not ml-eng');
  expect(JSON.parse((await getJson(['-n', ns, 'get', 'configmap', 'sepsis-escalation-record'])).data['record.json']).escalation.level).toBe(3);
  await kubectl(['-n', ns, 'delete', 'configmap', 'sepsis-escalation-record']); // the cluster administrator (system:masters)
  // A monitoring key or label store with the operator's mark, made by someone else: refused.
  const secret = (name: string, kind: string) => JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: ns, labels: { 'clinops.dev/record': kind } },
    stringData: { key: 'k'.repeat(32) } });
  expect((await as('ml-eng', ['apply', '-f', '-'], secret('sepsis-monitoring', 'monitoring-key'))).out)
    .toContain(denied('records') + `the clinops record (monitoring-key) is written only by the clinops operator (${OPERATOR}), not by ml-eng`);
  expect((await as('ml-eng', ['apply', '-f', '-'], secret('sepsis-feedback', 'label-store'))).out).toContain('the clinops record (label-store)');
  // Nor may an editor take the mark off one of the operator's.
  expect(await as(operatorKubeconfig(), ['apply', '-f', '-'], secret('sepsis-monitoring', 'monitoring-key'))).toMatchObject({ ok: true });
  expect((await as('ml-eng', ['-n', ns, 'label', 'secret', 'sepsis-monitoring', 'clinops.dev/record-'])).out).toContain('the clinops record');
});

it('refuses a revoked version under any name until a governance administrator lifts it, with a reason on the record', async () => {
  const revoked = 'c'.repeat(64);
  const revocation = JSON.stringify({ apiVersion: 'clinops.dev/v1alpha1', kind: 'RevokedVersion', metadata: { name: revoked, namespace: ns },
    spec: { sha256: revoked, model: 'sepsis', version: '2.0.0', revokedAt: '2026-12-01T00:00:00Z', reason: 'patient-safety event INC-1' } });
  // Nobody but the operator writes one (a forged revocation would block a version).
  expect((await as('ml-eng', ['apply', '-f', '-'], revocation)).out).toContain(denied('revocation-records') +
    `a RevokedVersion is written only by the clinops operator (${OPERATOR}), not by ml-eng`);
  expect(await as(operatorKubeconfig(), ['apply', '-f', '-'], revocation)).toMatchObject({ ok: true });
  const copy = (name: string) => JSON.stringify(model(ns, name, { model: { uri: 'pvc://models/x/model.onnx', sha256: revoked.toUpperCase(), version: '2.0.0', labels: ['a', 'b'] } }));
  let probe = 0;
  const refused = await eventually('the revocation in force', async () => {
    const r = await as('ml-eng', ['apply', '--dry-run=server', '-f', '-'], copy(`probe-${++probe}`));
    return r.ok ? undefined : r.out;
  });
  expect(refused).toContain(denied('revoked-versions') + `spec.model.sha256 ${revoked} was shut down at level 3 (model sepsis, version 2.0.0) and is revoked in this namespace ` +
    `(kubectl get revokedversion ${revoked}): declare another version; only a governance administrator (users none, groups clinops-governance) lifts a revocation`);
  // Not by a change of an existing model to it either.
  expect((await as('ml-eng', patch('sepsis', { spec: { model: { sha256: revoked } } }))).out).toContain('is revoked in this namespace');
  // The editor cannot lift it, nor delete it; an administrator lifts it in their own name only, changing nothing else.
  const lift = (who: Person, by: string, extra: object = {}) => as(who, ['-n', ns, 'patch', 'revokedversion', revoked, '--type=merge', '-p',
    JSON.stringify({ spec: { lift: { by, reason: 'root cause fixed upstream; reviewed by the safety board' }, ...extra } })]);
  expect((await lift('ml-eng', 'ml-eng')).out).toContain('a RevokedVersion is written only by the clinops operator');
  expect((await as('ml-eng', ['-n', ns, 'delete', 'revokedversion', revoked])).out)
    .toContain('only a governance administrator (users none, groups clinops-governance) deletes a RevokedVersion, not ml-eng');
  expect((await lift('gov-admin', 'dr-lee')).out).toContain('a governance administrator lifts a revocation by adding only spec.lift, in your own name (gov-admin) and with a reason');
  expect((await lift('gov-admin', 'gov-admin', { reason: 'nothing happened' })).out).toContain('by adding only spec.lift');
  expect(await lift('gov-admin', 'gov-admin')).toMatchObject({ ok: true });
  await eventually('the lift in force', async () => (await as('ml-eng', ['apply', '-f', '-'], copy('sepsis-again'))).ok);
  const kept = await getJson(['-n', ns, 'get', 'revokedversion', revoked]);
  expect(kept.spec).toMatchObject({ sha256: revoked, reason: 'patient-safety event INC-1', lift: { by: 'gov-admin', reason: expect.stringContaining('safety board') } });
});
