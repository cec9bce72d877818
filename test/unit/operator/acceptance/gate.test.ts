import { acceptanceJob, asServed, jobResult, nextAcceptance, settleGates } from '../../../../operator/acceptance/gate.js';
import { approvalShortfall, missingItems, servedModel } from '../../../../operator/serving/versions.js';
import type { ClinicalModel } from '../../../../operator/api/types.js';
import { computeStatus } from '../../../../operator/controller/status.js';
import { escalationStep } from '../../../../operator/escalation/step.js';
import { clinicalModel } from '../fixtures.js';

type Any = any; // eslint-disable-line @typescript-eslint/no-explicit-any
const NOW = '2026-11-22T10:00:00Z';
const OLD = '1'.repeat(64);
const gated = (status?: ClinicalModel['status']): ClinicalModel => ({
  ...clinicalModel({ acceptance: { holdout: { configMapRef: { name: 'holdout', key: 'holdout.json' } }, minAuroc: 0.9, lowerBound: true } }),
  ...(status ? { status } : {}),
});
const sha = gated().spec.model.sha256.toLowerCase();
const IMAGE = 'clinops/inference-server@sha256:' + 'e'.repeat(64);
const jobSpec = (acceptanceJob(gated(), IMAGE) as Any).spec.template.spec;
/** The Job as the API server holds it, and a pod of its own that ended. */
const JOB = { metadata: { name: 'j', uid: 'job-uid-1', creationTimestamp: '2026-11-22T09:59:00Z' }, spec: { template: { spec: jobSpec } }, status: {} };
const ownPod = { metadata: { name: 'j-x', ownerReferences: [{ uid: 'job-uid-1', controller: true }] }, spec: jobSpec };
const ended = (exitCode: number, message: string, pod: Any = ownPod) =>
  [{ ...pod, status: { containerStatuses: [{ name: 'accept', state: { terminated: { exitCode, message, finishedAt: NOW } } }] } }];
const EXPECT = { image: IMAGE, holdoutSha256: 'ab'.repeat(32) };
const verdict = (v: Record<string, unknown>) => JSON.stringify({ sha256: sha, holdout: EXPECT.holdoutSha256, ...v });

describe('the acceptance gate', () => {
  it('serves the declared version once it passed, the one accepted before until then, and nothing without one', () => {
    expect(servedModel(clinicalModel())).toMatchObject({ sha256: sha }); // no spec.acceptance: served as today
    expect(servedModel(gated())).toBeUndefined();
    expect(asServed(gated()).spec.serving?.replicas).toBe(0);
    const accepted = { sha256: OLD, version: '2.0.0', uri: 'pvc://models-claim/pneumonia/2/model.onnx', acceptedAt: NOW };
    const failing = gated({ acceptance: { accepted, candidate: { sha256: sha, version: '3.0.0', state: 'Failed', message: 'auroc 0.7 < 0.9' } } });
    expect(servedModel(failing)).toEqual({ sha256: OLD, version: '2.0.0', uri: accepted.uri });
    expect(asServed(failing).spec.model).toMatchObject({ sha256: OLD, version: '2.0.0', uri: accepted.uri, labels: ['Normal', 'Pneumonia'] });
    const passed = gated({ acceptance: { accepted, candidate: { sha256: sha, version: '3.0.0', state: 'Passed' } } });
    expect(servedModel(passed)).toMatchObject({ sha256: sha });
  });

  it('runs `clinops accept` in a Job from the server image, without API access, its verdict in the termination message', () => {
    const job = acceptanceJob(gated(), 'clinops/inference-server:0.1.0') as Any;
    // The API server picks the name's end: nobody can make the Job before the operator does.
    expect(job.metadata.name).toBeUndefined();
    expect(job.metadata.generateName).toBe(`pneumonia-cxr-accept-${sha.slice(0, 10)}-`);
    expect(job.metadata.ownerReferences[0].uid).toBe('uid-1');
    expect(job.spec).toMatchObject({ backoffLimit: 0, activeDeadlineSeconds: 900 });
    const pod = job.spec.template.spec;
    expect(pod).toMatchObject({ restartPolicy: 'Never', automountServiceAccountToken: false });
    const c = pod.containers[0];
    expect(c.args).toEqual(['accept', '--model', '/models/pneumonia/3/model.onnx', '--sha256', sha, '--holdout', '/etc/clinops/holdout/holdout.json',
      '--labels', '["Normal","Pneumonia"]', '--min-auroc', '0.9', '--lower-bound', '--summary-file', '/dev/termination-log']);
    expect(c.securityContext).toMatchObject({ readOnlyRootFilesystem: true, runAsNonRoot: true, allowPrivilegeEscalation: false });
    expect(pod.volumes).toContainEqual({ name: 'model', persistentVolumeClaim: { claimName: 'models-claim', readOnly: true } });
    expect(pod.volumes).toContainEqual({ name: 'holdout', configMap: { name: 'holdout', items: [{ key: 'holdout.json', path: 'holdout.json' }] } });
    // A GPU model is accepted on CPU: no GPU asked for.
    const gpu = { ...gated(), spec: { ...gated().spec, serving: { gpu: { count: 1 }, resources: { requests: { cpu: '1', 'nvidia.com/gpu': 1 }, limits: { 'nvidia.com/gpu': 1, memory: '4Gi' } } } } };
    expect((acceptanceJob(gpu, 'img') as Any).spec.template.spec.containers[0].resources).toEqual({ requests: { cpu: '1' }, limits: { memory: '4Gi' } });
  });

  it('reads the verdict from the pod: running, passed, failed with the failures, or an error', () => {
    const job = JOB;
    expect(jobResult(gated(), job, [], NOW, EXPECT)).toEqual({ sha256: sha, version: '3.0.0', state: 'Running', job: 'j', jobUid: 'job-uid-1', startedAt: '2026-11-22T09:59:00Z' });
    const pass = jobResult(gated(), job, ended(0, verdict({ pass: true, cases: 228, metrics: { auroc: 0.99 }, failures: [] })), NOW, EXPECT);
    expect(pass).toMatchObject({ state: 'Passed', cases: 228, metrics: { auroc: 0.99 }, finishedAt: NOW,
      holdout: { source: 'ConfigMap holdout key holdout.json', sha256: EXPECT.holdoutSha256 } });
    const fail = jobResult(gated(), job, ended(1, verdict({ pass: false, cases: 50, metrics: { auroc: 0.7 }, failures: ['auroc 0.7 < 0.9'] })), NOW, EXPECT);
    expect(fail).toMatchObject({ state: 'Failed', failures: ['auroc 0.7 < 0.9'], message: 'auroc 0.7 < 0.9' });
    expect(jobResult(gated(), job, ended(2, 'clinops accept: sha256 of /models/x is 00…, expected ff…; not run'), NOW, EXPECT))
      .toMatchObject({ state: 'Error', message: 'clinops accept: sha256 of /models/x is 00…, expected ff…; not run' });
    const deadline = { ...job, status: { failed: 1, conditions: [{ type: 'Failed', status: 'True', reason: 'DeadlineExceeded', message: 'Job was active longer than specified deadline' }] } };
    expect(jobResult(gated(), deadline, [], NOW, EXPECT)).toMatchObject({ state: 'Error', message: 'the acceptance Job failed: DeadlineExceeded Job was active longer than specified deadline' });
  });

  it('believes no forged verdict: exit 0 without pass true, another sha256 or holdout, a stranger\'s pod, or another image', () => {
    const job = JOB;
    expect(jobResult(gated(), job, ended(0, '{"anything": 1}'), NOW, EXPECT)).toMatchObject({ state: 'Error' });
    expect(jobResult(gated(), job, ended(0, verdict({ pass: false })), NOW, EXPECT)).toMatchObject({ state: 'Error', message: 'exit 0 with a verdict saying pass: false' });
    expect(jobResult(gated(), job, ended(0, verdict({ pass: 'yes' })), NOW, EXPECT)).toMatchObject({ state: 'Error' });
    expect(jobResult(gated(), job, ended(0, verdict({ pass: true, sha256: OLD })), NOW, EXPECT))
      .toMatchObject({ state: 'Error', message: `the verdict is for sha256 ${OLD}, not the candidate's ${sha}` });
    expect(jobResult(gated(), job, ended(0, verdict({ pass: true, holdout: 'cd'.repeat(32) })), NOW, EXPECT).message)
      .toContain('not the ConfigMap holdout key holdout.json the operator read');
    expect(jobResult(gated(), job, ended(0, '[true]'), NOW, EXPECT)).toMatchObject({ state: 'Error' });
    // A pod made by someone else with the Job's labels: another controller, or the Job's uid on a pod running other commands.
    const passing = verdict({ pass: true, cases: 228 });
    const stranger = { ...ownPod, metadata: { name: 'fake', ownerReferences: [{ uid: 'someone-else', controller: true }] } };
    expect(jobResult(gated(), job, ended(0, passing, stranger), NOW, EXPECT).state).toBe('Running');
    const otherCommand = { ...ownPod, spec: { ...jobSpec, containers: [{ ...jobSpec.containers[0], command: ['sh', '-c', 'echo pass > /dev/termination-log'] }] } };
    expect(jobResult(gated(), job, ended(0, passing, otherCommand), NOW, EXPECT).state).toBe('Running');
    const otherVolume = { ...ownPod, spec: { ...jobSpec, volumes: [...jobSpec.volumes.slice(1), { name: 'model', emptyDir: {} }] } };
    expect(jobResult(gated(), job, ended(0, passing, otherVolume), NOW, EXPECT).state).toBe('Running');
    expect(jobResult(gated(), job, ended(0, passing), NOW, EXPECT).state).toBe('Passed');
    // A Job whose container is not the operator's acceptance image (a spec's own image) says nothing either.
    const ownImage = { ...job, spec: { template: { spec: (acceptanceJob(gated(), 'attacker/image:1') as Any).spec.template.spec } } };
    expect(jobResult(gated(), ownImage, ended(0, passing), NOW, EXPECT)).toMatchObject({ state: 'Error', message: expect.stringContaining("not the operator's acceptance image") });
  });

  it('records a pass as the accepted version and every decision in a bounded history', () => {
    const pass = { sha256: sha, version: '3.0.0', state: 'Passed' as const, finishedAt: NOW, cases: 10 };
    const next = nextAcceptance(gated(), pass);
    expect(next.history).toHaveLength(1);
    const settled = settleGates(gated({ acceptance: next }), NOW);
    expect(settled.status?.acceptance?.accepted).toEqual({ sha256: sha, version: '3.0.0', uri: 'pvc://models-claim/pneumonia/3/model.onnx', acceptedAt: NOW });
    expect(nextAcceptance(gated({ acceptance: next }), pass)).toBe(next); // the same verdict again: unchanged
    let many = next;
    for (let i = 0; i < 12; i++) many = nextAcceptance(gated({ acceptance: many }), { ...pass, finishedAt: `2026-11-22T10:${String(i).padStart(2, '0')}:00Z` });
    expect(many.history).toHaveLength(10);
  });

  it('waits for every go/no-go item to be signed for this sha256 before a passed version serves, and keeps the record', () => {
    const signature = (item: string, signedBy: string, forSha = sha) => ({ item, signedBy, sha256: forSha });
    const withApproval = (signatures: Array<ReturnType<typeof signature>>, status?: ClinicalModel['status']): ClinicalModel => {
      const cr = gated(status);
      return { ...cr, spec: { ...cr.spec, approval: { items: ['performance-validation', 'go-no-go'], signatures } } };
    };
    const passed = { candidate: { sha256: sha, version: '3.0.0', state: 'Passed' as const } };
    // One item signed, one signed for another version: not servable; the status names what is missing.
    const waiting = settleGates(withApproval([signature('performance-validation', 'dr-lee'), signature('go-no-go', 'cmo', OLD)], { acceptance: passed }), NOW);
    expect(servedModel(waiting)).toBeUndefined();
    expect(missingItems(waiting)).toEqual(['go-no-go']);
    expect(waiting.status?.approval).toMatchObject({ sha256: sha, missing: ['go-no-go'], signatures: [{ item: 'performance-validation', signedBy: 'dr-lee', seenAt: NOW }] });
    const phase = computeStatus({ cr: waiting, deployment: { status: {} }, pods: [], now: NOW });
    expect(phase.phase).toBe('AwaitingApproval');
    expect(phase.conditions!.find((c) => c.type === 'Approved')).toMatchObject({ status: 'False', reason: 'AwaitingSignatures' });
    // The last signature: approved, recorded (the first signature keeps when it was first seen), and it serves.
    const later = '2026-11-22T11:00:00Z';
    // One go/no-go signature is not enough: the decision takes two different people (spec.approval.distinctSigners).
    const one = withApproval([signature('performance-validation', 'dr-lee'), signature('go-no-go', 'cmo'), signature('go-no-go', 'cmo')], waiting.status);
    expect(approvalShortfall(one)).toEqual([{ item: 'go-no-go', lacks: 'signed by cmo; needs 2 different people' }]);
    expect(computeStatus({ cr: settleGates(one, NOW), deployment: { status: {} }, pods: [], now: NOW }).conditions!.find((c) => c.type === 'Approved')!.message)
      .toContain('go-no-go signed by cmo; needs 2 different people');
    const done = settleGates(withApproval([signature('performance-validation', 'dr-lee'), signature('go-no-go', 'cmo'), signature('go-no-go', 'dr-lee')], waiting.status), later);
    expect(servedModel(done)).toMatchObject({ sha256: sha });
    expect(done.status?.approval).toMatchObject({ missing: [], approvedAt: later,
      signatures: [{ item: 'performance-validation', seenAt: NOW }, { item: 'go-no-go', signedBy: 'cmo', seenAt: later }, { item: 'go-no-go', signedBy: 'dr-lee', seenAt: later }] });
    expect(done.status?.approval?.records).toHaveLength(1);
    expect(done.status?.acceptance?.accepted).toMatchObject({ sha256: sha, acceptedAt: later });
    expect(computeStatus({ cr: done, deployment: { status: {} }, pods: [], now: later }).conditions!.find((c) => c.type === 'Approved'))
      .toMatchObject({ status: 'True', message: 'version 3.0.0 signed off by dr-lee, cmo' });
    // The person who submitted the version never signs it off alone, however few signers the model asks for.
    const submitted = (signers: string[]) => {
      const cr = withApproval([signature('performance-validation', 'dr-lee'), ...signers.map((x) => signature('go-no-go', x))], waiting.status);
      return { ...cr, spec: { ...cr.spec, model: { ...cr.spec.model, submittedBy: 'ml-eng' }, approval: { ...cr.spec.approval, distinctSigners: 1 } } };
    };
    expect(approvalShortfall(submitted(['ml-eng']))).toEqual([{ item: 'go-no-go', lacks: 'signed only by ml-eng, who submitted this version; someone else must sign too' }]);
    expect(approvalShortfall(submitted(['ml-eng', 'cmo']))).toEqual([]);
    expect(settleGates(submitted(['cmo']), later).status?.approval).toMatchObject({ submittedBy: 'ml-eng', missing: [] });
  });

  it('never lets a shut-down version serve again as the fallback: leaving level 3 needs a version that passed the gates', () => {
    const accepted = { sha256: OLD, version: '2.0.0', uri: 'pvc://models-claim/pneumonia/2/model.onnx', acceptedAt: NOW };
    const shutDown = (candidate: 'Failed' | 'Passed') => {
      const cr = gated({ acceptance: { accepted, candidate: { sha256: sha, version: '3.0.0', state: candidate } },
        escalation: { level: 3, since: NOW, reason: 'patient-safety event INC-1', shutdownSha256: OLD } });
      return { ...cr, spec: { ...cr.spec, escalation: { acknowledgement: { reviewer: 'dr-lee', level: 3, note: 'new version' } } } };
    };
    const step = (cr: ClinicalModel) => escalationStep(cr, { now: Date.parse(NOW) + 1000, nextCheckDue: Date.parse(NOW) + 60_000, random: 0 });
    // 3.0.0 was rejected: 2.0.0, the shut-down version, is what would serve, so the acknowledgement is refused.
    const refused = step(shutDown('Failed'));
    expect(refused.escalation.level).toBe(3);
    expect(refused.refusedAcknowledgement?.message).toContain('is the one that was shut down');
    // 3.0.0 passed: it would serve, and the acknowledgement lowers the level.
    expect(step(shutDown('Passed')).escalation.level).toBe(0);
  });

  it('says in status what serves and why: Accepting, Rejected, or the accepted version serving while an update was rejected', () => {
    const status = (cr: ClinicalModel) => computeStatus({ cr, deployment: { status: { replicas: 0, readyReplicas: 0 } }, pods: [], now: NOW });
    const accepting = status(gated({ acceptance: { candidate: { sha256: sha, version: '3.0.0', state: 'Running', job: 'j' } } }));
    expect(accepting.phase).toBe('Accepting');
    expect(accepting.conditions!.find((c) => c.type === 'Accepted')).toMatchObject({ status: 'Unknown', reason: 'Accepting', message: 'version 3.0.0 is being accepted (Job j); nothing serves until it passes' });
    const rejected = status(gated({ acceptance: { candidate: { sha256: sha, version: '3.0.0', state: 'Failed', message: 'auroc 0.7 < 0.9' } } }));
    expect(rejected.phase).toBe('Rejected');
    const accepted = { sha256: OLD, version: '2.0.0', uri: 'pvc://models-claim/pneumonia/2/model.onnx', acceptedAt: NOW };
    const update = computeStatus({ cr: gated({ acceptance: { accepted, candidate: { sha256: sha, version: '3.0.0', state: 'Failed', message: 'auroc 0.7 < 0.9' } } }),
      deployment: { status: { replicas: 1, readyReplicas: 1 } }, pods: [], now: NOW });
    expect(update.phase).toBe('Serving');
    expect(update.conditions!.find((c) => c.type === 'Accepted')).toMatchObject({ status: 'False', reason: 'Rejected',
      message: `version 3.0.0 failed acceptance: auroc 0.7 < 0.9; version 2.0.0 (sha256 ${OLD.slice(0, 12)}…) keeps serving` });
    expect(status(clinicalModel()).conditions!.find((c) => c.type === 'Accepted')).toMatchObject({ status: 'False', reason: 'NoAcceptance' });
  });
});
