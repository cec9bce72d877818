import { ProviderReports } from '../../../../operator/controller/providers.js';
import type { ObservedPod } from '../../../../operator/serving/pods.js';

const readyPod = (uid: string, ip: string): ObservedPod => ({
  metadata: { name: `pod-${uid}`, uid },
  status: { podIP: ip, conditions: [{ type: 'Ready', status: 'True' }] },
});

function fakeFetch(answers: Record<string, unknown>) {
  const calls: string[] = [];
  const fn = (async (url: string) => {
    calls.push(url);
    const body = answers[url];
    if (body === undefined) throw new Error('connect timeout');
    return new Response(JSON.stringify(body), { status: 200 });
  }) as unknown as typeof fetch;
  return { fn, calls };
}

const settle = () => new Promise((r) => setTimeout(r, 10));

describe('execution providers reported by the replicas', () => {
  it('asks each ready pod once, in the background, and queues the model when it answers', async () => {
    const { fn, calls } = fakeFetch({ 'http://10.0.0.1:8080/health/ready': { ready: true, executionProvider: 'cpu', requestedExecutionProvider: 'cuda', executionProviderNote: 'libcudart.so.12 not found' } });
    const queued: string[] = [];
    const reports = new ProviderReports((k) => queued.push(k), () => 0, fn);
    expect(reports.observe('ns/m', [readyPod('a', '10.0.0.1')])).toEqual([]);
    await settle();
    expect(queued).toEqual(['ns/m']);
    expect(reports.observe('ns/m', [readyPod('a', '10.0.0.1')])).toEqual([{ pod: 'pod-a', active: 'cpu', requested: 'cuda', note: 'libcudart.so.12 not found' }]);
    expect(calls).toHaveLength(1);
  });

  it('tries an unanswered pod again only after a while, and forgets pods that are gone', async () => {
    let now = 0;
    const { fn, calls } = fakeFetch({});
    const reports = new ProviderReports(() => {}, () => now, fn, 100, 30_000);
    reports.observe('ns/m', [readyPod('a', '10.0.0.1')]);
    await settle();
    reports.observe('ns/m', [readyPod('a', '10.0.0.1')]);
    await settle();
    expect(calls).toHaveLength(1);
    now = 30_000;
    reports.observe('ns/m', [readyPod('a', '10.0.0.1')]);
    await settle();
    expect(calls).toHaveLength(2);
    expect(reports.observe('ns/m', [])).toEqual([]);
  });

  it('reads the explicit endpoint of a model, for an operator outside the cluster', async () => {
    const { fn, calls } = fakeFetch({ 'http://127.0.0.1:9000/health/ready': { ready: true, executionProvider: 'cuda', requestedExecutionProvider: 'cuda' } });
    const reports = new ProviderReports(() => {}, () => 0, fn);
    reports.observe('ns/m', [readyPod('a', '10.244.0.9')], ['http://127.0.0.1:9000']);
    await settle();
    expect(calls).toEqual(['http://127.0.0.1:9000/health/ready']);
    expect(reports.observe('ns/m', [readyPod('a', '10.244.0.9')], ['http://127.0.0.1:9000'])[0]?.active).toBe('cuda');
  });
});
