import { fetchExit, podProblem, serverExit } from '../../../../operator/serving/pod-problems.js';
import type { ObservedPod } from '../../../../operator/serving/pods.js';

const pod = (name: string, server: NonNullable<ObservedPod['status']>['containerStatuses']): ObservedPod => ({
  metadata: { name },
  status: { phase: 'Running', containerStatuses: server },
});

describe('what the kubelet says about a model\'s pods', () => {
  it('reads the server\'s own word from its termination message', () => {
    const p = pod('m-1', [{
      name: 'server', restartCount: 2,
      state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 20s restarting failed container' } },
      lastState: { terminated: { exitCode: 3, reason: 'Error', message: 'DigestMismatch: sha256 of /models/m.onnx is 12ab, expected ffff; refusing to serve it' } },
    }]);
    expect(serverExit([p])).toEqual({ reason: 'DigestMismatch', message: 'sha256 of /models/m.onnx is 12ab, expected ffff; refusing to serve it', exitCode: 3 });
    expect(podProblem([p])).toEqual({
      reason: 'CrashLoopBackOff',
      message: 'pod m-1 container server: CrashLoopBackOff — DigestMismatch: sha256 of /models/m.onnx is 12ab, expected ffff; refusing to serve it',
    });
  });

  it('says a crash without a word is a crash, with the last lines of its log', () => {
    const p = pod('m-2', [{ name: 'server', lastState: { terminated: { exitCode: 137, reason: 'OOMKilled', message: 'a\nb\nc\nd' } } }]);
    expect(serverExit([p])).toEqual({ reason: 'Crashed', message: 'the server exited with code 137 (OOMKilled): b | c | d', exitCode: 137 });
  });

  it('names a missing image and a bad configuration, in init containers too', () => {
    const never = pod('m-3', [{ name: 'server', state: { waiting: { reason: 'ErrImageNeverPull', message: 'Container image "x:1" is not present with pull policy of Never' } } }]);
    expect(podProblem([never])).toEqual({ reason: 'ErrImageNeverPull', message: 'pod m-3 container server: ErrImageNeverPull — Container image "x:1" is not present with pull policy of Never' });
    const init: ObservedPod = { metadata: { name: 'm-4' }, status: { initContainerStatuses: [{ name: 'fetch-model', state: { waiting: { reason: 'ImagePullBackOff' } } }] } };
    expect(podProblem([init])?.reason).toBe('ImagePullBackOff');
  });

  it('names why fetch-model could not fetch the model, in its own word (what its last exit said)', () => {
    const said = 'clinops fetch-model: CredentialsRejected: s3://models/m.onnx: the store refused the credentials (access key or secret key wrong, or the token expired)\n';
    const init: ObservedPod = { metadata: { name: 'm-5' }, status: { initContainerStatuses: [{ name: 'fetch-model', state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 20s restarting failed container' } }, lastState: { terminated: { exitCode: 1, message: said } } }] } };
    expect(podProblem([init])).toEqual({ reason: 'CrashLoopBackOff', message: 'pod m-5 container fetch-model: CrashLoopBackOff — CredentialsRejected: s3://models/m.onnx: the store refused the credentials (access key or secret key wrong, or the token expired)' });
    expect(fetchExit([init])).toEqual({ word: 'CredentialsRejected', message: 's3://models/m.onnx: the store refused the credentials (access key or secret key wrong, or the token expired)' });
    expect(fetchExit([pod('m-6', [{ name: 'server', lastState: { terminated: { exitCode: 1, message: 'NotFound: x' } } }])])).toBeUndefined();
  });

  it('ignores what clears by itself, clean exits and pods on their way out', () => {
    expect(podProblem([pod('a', [{ name: 'server', state: { waiting: { reason: 'ContainerCreating' } } }])])).toBeUndefined();
    expect(serverExit([pod('b', [{ name: 'server', lastState: { terminated: { exitCode: 0 } } }])])).toBeUndefined();
    const leaving = { ...pod('c', [{ name: 'server', state: { waiting: { reason: 'CrashLoopBackOff' } } }]), metadata: { name: 'c', deletionTimestamp: '2026-11-21T00:00:00Z' } };
    expect(podProblem([leaving])).toBeUndefined();
  });
});
