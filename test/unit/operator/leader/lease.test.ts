import type { Logger } from '../../../../contract/log.js';
import { ApiError, type KubeClient } from '../../../../operator/kube/client.js';
import { LeaderElector, microTime } from '../../../../operator/leader/lease.js';

describe('microTime', () => {
  it('writes RFC 3339 with six fractional digits, as Kubernetes MicroTime requires', () => {
    expect(microTime(Date.UTC(2026, 10, 21, 19, 50, 1, 234))).toBe('2026-11-21T19:50:01.234000Z');
  });
});

describe('LeaderElector', () => {
  /** One Lease in memory behind a client whose calls can be made to hang, as a frozen API server's do. */
  function fakeApi() {
    let lease: any; // eslint-disable-line @typescript-eslint/no-explicit-any
    let rv = 0;
    let frozen = false;
    // A hanging call fails once the API server answers again (as the client's timeout would have failed it).
    const hanging: Array<(e: Error) => void> = [];
    const hang = () => new Promise<never>((_, reject) => hanging.push(reject));
    const client = {
      get: async () => (frozen ? hang() : lease && structuredClone(lease)),
      create: async (_ref: unknown, body: any) => (frozen ? hang() : (lease = { ...body, metadata: { ...body.metadata, resourceVersion: String(++rv) } })), // eslint-disable-line @typescript-eslint/no-explicit-any
      update: async (_ref: unknown, body: any) => { // eslint-disable-line @typescript-eslint/no-explicit-any
        if (frozen) return hang();
        if (body.metadata.resourceVersion !== lease.metadata.resourceVersion) throw new ApiError('PUT', '/leases/clinops', 409, 'Conflict', 'conflict');
        lease = { ...body, metadata: { ...body.metadata, resourceVersion: String(++rv) } };
        return lease;
      },
    };
    const freeze = (f: boolean) => {
      frozen = f;
      if (!f) for (const reject of hanging.splice(0)) reject(new Error('timed out'));
    };
    return { client, freeze, holder: () => lease?.spec.holderIdentity };
  }
  const log = { info: () => {}, warn: () => {}, error: () => {}, debug: () => {}, child: () => log } as unknown as Logger;
  const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

  it('stands down at its renew deadline while its calls hang, and does not take back the lease it gave up: the standby that watched it expire leads', async () => {
    const api = fakeApi();
    const timings = { leaseDurationMs: 1000, renewDeadlineMs: 300, retryPeriodMs: 50 };
    const events: string[] = [];
    const make = (identity: string) => new LeaderElector({ client: api.client as unknown as KubeClient, namespace: 'clinops-system', name: 'clinops', identity, log, ...timings,
      onStartedLeading: () => events.push(`${identity} leads`), onStoppedLeading: () => events.push(`${identity} stands down`) });
    const a = make('a');
    a.start();
    await wait(150);
    const b = make('b');
    b.start();
    await wait(150);
    expect([a.isLeader, b.isLeader, api.holder()]).toEqual([true, false, 'a']);
    api.freeze(true); // every call hangs
    await wait(timings.renewDeadlineMs + 150);
    expect(a.isLeader).toBe(false); // within its deadline, though its renewal never returned
    api.freeze(false); // the lease still names a, renewed before the freeze
    // The lease says a for its whole duration (whole seconds) from b's last sight of a renewal; then b takes it.
    for (const until = Date.now() + 3000; !b.isLeader && Date.now() < until;) await wait(20);
    expect([a.isLeader, b.isLeader, api.holder()]).toEqual([false, true, 'b']);
    expect(events).toEqual(['a leads', 'a stands down', 'b leads']);
    await a.stop();
    await b.stop();
  });
});
