import { computeStatus, statusChanged } from '../../../../operator/controller/status.js';
import { type ObservedPod, unschedulableMessage } from '../../../../operator/serving/pods.js';
import { clinicalModel } from '../fixtures.js';

const NOW = '2026-11-21T20:00:00Z';
const EARLIER = '2026-11-21T19:00:00Z';
const SHA = 'abcdef'.padEnd(64, '0');

function deployment(ready: number, replicas = ready) {
  return { status: { replicas, readyReplicas: ready, updatedReplicas: replicas } };
}

function readyPod(sha = SHA): ObservedPod {
  return {
    metadata: { name: 'p' },
    spec: { containers: [{ name: 'server', env: [{ name: 'CLINOPS_MODEL_SHA256', value: sha }] }] },
    status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] },
  };
}

const unschedulablePod: ObservedPod = {
  metadata: { name: 'p-1' },
  status: {
    phase: 'Pending',
    conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/3 nodes are available: 2 Insufficient nvidia.com/gpu.' }],
  },
};

function cond(status: ReturnType<typeof computeStatus>, type: string) {
  return status.conditions?.find((c) => c.type === type);
}

describe('computeStatus', () => {
  it('is Deploying before the Deployment exists', () => {
    const s = computeStatus({ cr: clinicalModel(), deployment: undefined, pods: [], now: NOW });
    expect(s.phase).toBe('Deploying');
    expect(cond(s, 'Ready')).toMatchObject({ status: 'False', reason: 'DeploymentPending', observedGeneration: 3 });
  });

  it('is Serving with every replica ready, and the artifact verified by a ready pod serving this sha256', () => {
    const cr = clinicalModel({ serving: { replicas: 2 } });
    const s = computeStatus({ cr, deployment: deployment(2), pods: [readyPod(), readyPod()], now: NOW });
    expect(s).toMatchObject({
      phase: 'Serving', replicas: 2, readyReplicas: 2, observedGeneration: 3,
      selector: 'app.kubernetes.io/instance=pneumonia-cxr,app.kubernetes.io/name=clinops-model',
      endpoint: 'http://pneumonia-cxr.radiology.svc:8080',
    });
    expect(cond(s, 'Ready')).toMatchObject({ status: 'True', reason: 'AllReplicasReady', message: '2/2 replicas ready' });
    expect(cond(s, 'ArtifactVerified')).toMatchObject({ status: 'True', reason: 'VerifiedByServer' });
  });

  it('with an autoscaler, desires what it asks of the Deployment, within its bounds; paused, none', () => {
    const autoscaling = { minReplicas: 1, maxReplicas: 3, metric: 'inflightRequests' as const, target: 4 };
    const cr = clinicalModel({ serving: { replicas: 1, autoscaling } });
    const three = { ...deployment(2, 3), spec: { replicas: 3 } };
    const s = computeStatus({ cr, deployment: three, pods: [readyPod(), readyPod()], now: NOW });
    expect(s).toMatchObject({ phase: 'Degraded', desiredReplicas: 3, replicas: 3, readyReplicas: 2 });
    expect(cond(s, 'Ready')).toMatchObject({ message: expect.stringContaining('2/3 replicas ready') });
    const paused = { ...cr, status: { escalation: { level: 2 } } } as typeof cr;
    expect(computeStatus({ cr: paused, deployment: { ...deployment(0), spec: { replicas: 0 } }, pods: [], now: NOW })).toMatchObject({ phase: 'Paused', desiredReplicas: 0 });
    // Without one, the spec's count.
    expect(computeStatus({ cr: clinicalModel({ serving: { replicas: 2 } }), deployment: deployment(2), pods: [readyPod(), readyPod()], now: NOW }).desiredReplicas).toBe(2);
  });

  it('does not call an old artifact verified', () => {
    const s = computeStatus({ cr: clinicalModel(), deployment: deployment(1), pods: [readyPod('f'.repeat(64))], now: NOW });
    expect(cond(s, 'ArtifactVerified')).toMatchObject({ status: 'Unknown', reason: 'NoReadyReplica' });
  });

  it('is Degraded with some replicas ready', () => {
    const s = computeStatus({ cr: clinicalModel({ serving: { replicas: 3 } }), deployment: deployment(1, 3), pods: [], now: NOW });
    expect(s.phase).toBe('Degraded');
    expect(cond(s, 'Ready')).toMatchObject({ status: 'False', reason: 'ReplicasNotReady', message: '1/3 replicas ready' });
  });

  it('carries the scheduler\'s reason when pods cannot be placed', () => {
    const s = computeStatus({ cr: clinicalModel(), deployment: deployment(0, 1), pods: [unschedulablePod], now: NOW });
    expect(s.phase).toBe('Deploying');
    expect(cond(s, 'Ready')).toMatchObject({ reason: 'Unschedulable', message: expect.stringContaining('Insufficient nvidia.com/gpu') });
    expect(cond(s, 'PodsScheduled')).toMatchObject({ status: 'False', reason: 'Unschedulable', message: 'pod p-1: 0/3 nodes are available: 2 Insufficient nvidia.com/gpu.' });
  });

  it('is Paused at zero replicas', () => {
    const s = computeStatus({ cr: clinicalModel({ serving: { replicas: 0 } }), deployment: deployment(0), pods: [], now: NOW });
    expect(s.phase).toBe('Paused');
    expect(cond(s, 'Ready')?.reason).toBe('ScaledToZero');
  });

  it('is Paused or ShutDown when an escalation level says so, whatever the replicas', () => {
    const cr = clinicalModel({ serving: { replicas: 2 } });
    cr.status = { escalation: { level: 2, reason: 'significant drift (PSI 0.40)' } };
    const paused = computeStatus({ cr, deployment: deployment(0, 0), pods: [], now: NOW });
    expect(paused.phase).toBe('Paused');
    expect(cond(paused, 'Ready')).toMatchObject({ status: 'False', reason: 'Paused', message: expect.stringContaining('significant drift') });
    cr.status = { drift: { lastCheckTime: NOW, samples: 400, verdict: 'Moderate', psi: 0.02, ks: { statistic: 0.03, pValue: 0.6 }, features: 8,
      signals: [{ name: 'lactate', kind: 'feature', verdict: 'Moderate', psi: 0.14, statistic: 0.11, pValue: 0.0002 }] } };
    expect(cond(computeStatus({ cr, deployment: deployment(1), pods: [readyPod()], now: NOW }), 'DriftDetected')).toMatchObject({
      reason: 'ModerateDrift', message: 'PSI 0.02, KS D 0.03 (p 0.6) over 400 predictions, 8 features tested; drifted: lactate (PSI 0.14, KS D 0.11, p 0.0002); investigate' });
    cr.status = { escalation: { level: 3, reason: 'patient-safety event INC-1' } };
    expect(computeStatus({ cr, deployment: deployment(0, 0), pods: [], now: NOW }).phase).toBe('ShutDown');
    cr.status = { escalation: { level: 1 } };
    expect(computeStatus({ cr, deployment: deployment(2), pods: [readyPod(), readyPod()], now: NOW }).phase).toBe('Serving');
  });

  it('carries the PACS path\'s counts over unchanged', () => {
    const cr = clinicalModel();
    const dicom = { received: 3, ignored: 1, duplicate: 1, inferred: 1, delivered: 1, failed: 0, pending: 0, waiting: 0, heldReplicas: 0, replicasRead: 1, updatedTime: NOW };
    cr.status = { integration: { dicom } };
    expect(computeStatus({ cr, deployment: deployment(1), pods: [readyPod()], now: NOW }).integration).toEqual({ dicom });
  });

  it('reports drift and escalation as conditions and carries their status over unchanged', () => {
    const cr = clinicalModel();
    expect(cond(computeStatus({ cr, deployment: deployment(1), pods: [readyPod()], now: NOW }), 'DriftDetected'))
      .toMatchObject({ status: 'Unknown', reason: 'NotChecked' });
    cr.status = {
      drift: { lastCheckTime: NOW, samples: 400, verdict: 'Moderate', psi: 0.15, ks: { statistic: 0.12, pValue: 0.003 } },
      escalation: { level: 1, reason: 'moderate drift', reviewDueBy: '2026-11-23T20:00:00Z' },
    };
    const s = computeStatus({ cr, deployment: deployment(1), pods: [readyPod()], now: NOW });
    expect(s.drift).toEqual(cr.status.drift);
    expect(s.escalation).toEqual(cr.status.escalation);
    expect(cond(s, 'DriftDetected')).toMatchObject({ status: 'True', reason: 'ModerateDrift', message: 'PSI 0.15, KS D 0.12 (p 0.003) over 400 predictions; investigate' });
    expect(cond(s, 'Escalated')).toMatchObject({ status: 'True', reason: 'Level1Alert', message: expect.stringContaining('review due by 2026-11-23T20:00:00Z') });
    cr.status = { drift: { verdict: 'InsufficientData', message: '12 of 200 predictions needed' }, escalation: { level: 0, acknowledgedBy: 'dr-lee' } };
    const t = computeStatus({ cr, deployment: deployment(1), pods: [readyPod()], now: NOW });
    expect(cond(t, 'DriftDetected')).toMatchObject({ status: 'Unknown', reason: 'InsufficientData', message: '12 of 200 predictions needed' });
    expect(cond(t, 'Escalated')).toMatchObject({ status: 'False', message: 'last acknowledged by dr-lee' });
    cr.status = { drift: { lastCheckTime: NOW, samples: 400, verdict: 'Moderate', psi: 0.02, ks: { statistic: 0.03, pValue: 0.6 }, features: 8,
      signals: [{ name: 'lactate', kind: 'feature', verdict: 'Moderate', psi: 0.14, statistic: 0.11, pValue: 0.0002 }] } };
    expect(cond(computeStatus({ cr, deployment: deployment(1), pods: [readyPod()], now: NOW }), 'DriftDetected')).toMatchObject({
      reason: 'ModerateDrift', message: 'PSI 0.02, KS D 0.03 (p 0.6) over 400 predictions, 8 features tested; drifted: lactate (PSI 0.14, KS D 0.11, p 0.0002); investigate' });
    cr.status = { escalation: { level: 3, reason: 'patient-safety event INC-1' } };
    expect(cond(computeStatus({ cr, deployment: deployment(0, 0), pods: [], now: NOW }), 'Escalated')?.message).toContain('deploy a new model version');
  });

  it('is Failed when the children cannot be applied, or the rollout is past its deadline', () => {
    const failed = computeStatus({ cr: clinicalModel(), deployment: undefined, pods: [], applyError: 'forbidden', now: NOW });
    expect(failed.phase).toBe('Failed');
    expect(cond(failed, 'Ready')).toMatchObject({ reason: 'ApplyFailed', message: 'forbidden' });
    const stuck = computeStatus({
      cr: clinicalModel(),
      deployment: { status: { replicas: 1, readyReplicas: 0, conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: 'too slow' }] } },
      pods: [], now: NOW,
    });
    expect(stuck.phase).toBe('Failed');
  });

  it('keeps lastTransitionTime while a condition holds, and moves it when the condition flips', () => {
    const cr = clinicalModel();
    const first = computeStatus({ cr, deployment: deployment(1), pods: [readyPod()], now: EARLIER });
    cr.status = first;
    const same = computeStatus({ cr, deployment: deployment(1), pods: [readyPod()], now: NOW });
    expect(cond(same, 'Ready')?.lastTransitionTime).toBe(EARLIER);
    expect(statusChanged(cr.status, same)).toBe(false);
    const flipped = computeStatus({ cr, deployment: deployment(0, 1), pods: [], now: NOW });
    expect(cond(flipped, 'Ready')?.lastTransitionTime).toBe(NOW);
    expect(statusChanged(cr.status, flipped)).toBe(true);
  });

  it('sees a change in generation as a change of status', () => {
    const cr = clinicalModel();
    cr.status = computeStatus({ cr, deployment: deployment(1), pods: [readyPod()], now: NOW });
    cr.metadata.generation = 4;
    expect(statusChanged(cr.status, computeStatus({ cr, deployment: deployment(1), pods: [readyPod()], now: NOW }))).toBe(true);
  });
});

describe('unschedulableMessage', () => {
  it('ignores pods that are scheduled, running or being deleted', () => {
    expect(unschedulableMessage([readyPod(), { ...unschedulablePod, metadata: { name: 'x', deletionTimestamp: NOW } }])).toBeUndefined();
  });

  it('names a pod problem in Ready and a digest mismatch in ArtifactVerified, from what the server said', () => {
    const crashing: ObservedPod = {
      metadata: { name: 'p-9' },
      spec: { containers: [{ name: 'server', env: [{ name: 'CLINOPS_MODEL_SHA256', value: SHA }] }] },
      status: { phase: 'Running', containerStatuses: [{ name: 'server', state: { waiting: { reason: 'CrashLoopBackOff' } },
        lastState: { terminated: { exitCode: 3, message: `DigestMismatch: sha256 of /models/m.onnx is 1234, expected ${SHA}; refusing to serve it` } } }] },
    };
    const s = computeStatus({ cr: clinicalModel({ model: { uri: 'pvc://m/m.onnx', sha256: SHA, version: '1', labels: ['a', 'b'] } }), deployment: deployment(0, 1), pods: [crashing], now: NOW });
    expect(cond(s, 'Ready')).toMatchObject({ status: 'False', reason: 'CrashLoopBackOff' });
    expect(cond(s, 'Ready')?.message).toContain('0/1 replicas ready; pod p-9 container server: CrashLoopBackOff — DigestMismatch');
    expect(cond(s, 'ArtifactVerified')).toMatchObject({ status: 'False', reason: 'DigestMismatch', message: `sha256 of /models/m.onnx is 1234, expected ${SHA}; refusing to serve it` });
  });

  it('says whether a GPU model really runs on CUDA, and only for GPU models', () => {
    const gpu = clinicalModel({ serving: { gpu: { count: 1 } } });
    const unknown = computeStatus({ cr: gpu, deployment: deployment(1), pods: [readyPod()], providers: [], now: NOW });
    expect(cond(unknown, 'GPUAccelerated')).toMatchObject({ status: 'Unknown', reason: 'NotReported' });
    expect(unknown.executionProvider).toBeUndefined();
    const cpu = computeStatus({ cr: gpu, deployment: deployment(1), pods: [readyPod()], now: NOW,
      providers: [{ pod: 'p', active: 'cpu', requested: 'cuda', note: 'no CUDA-capable device is detected' }] });
    expect(cond(cpu, 'GPUAccelerated')).toMatchObject({ status: 'False', reason: 'CUDAUnavailable' });
    expect(cond(cpu, 'GPUAccelerated')?.message).toContain('1 of 1 reporting replicas serve on cpu, not CUDA (pod p: no CUDA-capable device is detected)');
    expect(cpu.executionProvider).toBe('cpu');
    const cuda = computeStatus({ cr: gpu, deployment: deployment(1), pods: [readyPod()], now: NOW, providers: [{ pod: 'p', active: 'cuda', requested: 'cuda' }] });
    expect(cond(cuda, 'GPUAccelerated')).toMatchObject({ status: 'True', reason: 'CUDA' });
    expect(cond(computeStatus({ cr: clinicalModel(), deployment: deployment(1), pods: [readyPod()], now: NOW }), 'GPUAccelerated')).toBeUndefined();
  });
});
