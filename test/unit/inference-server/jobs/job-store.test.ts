import { fail } from '../../../../inference-server/errors.js';
import { JobStore } from '../../../../inference-server/jobs/job-store.js';

const settle = () => new Promise((r) => setTimeout(r, 60));

describe('JobStore', () => {
  it('runs jobs one at a time, only while no synchronous request waits (or once one waited too long)', async () => {
    let busy = true;
    let t = 0;
    const ran: string[] = [];
    const store = new JobStore({ capacity: 10, ttlMs: 1000, idle: () => !busy, maxWaitMs: 5000, clock: () => t });
    const a = store.submit('k', async () => (ran.push('a'), 'A'));
    const b = store.submit('k', async () => (ran.push('b'), 'B'));
    await settle();
    expect(ran).toEqual([]); // the pool is busy with synchronous requests
    expect(store.get(a.id, 'k')!.state).toBe('queued');
    busy = false;
    await settle();
    expect(ran).toEqual(['a', 'b']);
    expect(store.get(a.id, 'k')).toMatchObject({ state: 'done', result: 'A' });
    // Never starved: a job that waited maxWaitMs runs even while the pool stays busy.
    busy = true;
    const c = store.submit('k', async () => (ran.push('c'), 'C'));
    await settle();
    expect(store.get(c.id, 'k')!.state).toBe('queued');
    t += 5000;
    await settle();
    expect(store.get(c.id, 'k')!.state).toBe('done');
    expect(b.id).not.toBe(a.id);
    expect(a.id).toMatch(/^[\w-]{22}$/); // 128 random bits
    store.stop();
  });

  it('shows a job only to the key that made it, cancels only queued ones, keeps results ttlMs and refuses beyond capacity', async () => {
    let t = 0;
    const store = new JobStore({ capacity: 2, ttlMs: 1000, idle: () => false, maxWaitMs: 1e9, clock: () => t });
    const mine = store.submit('pacs', async () => 1);
    expect(store.get(mine.id, 'ehr')).toBeUndefined();
    expect(() => store.cancel(mine.id, 'ehr')).toThrow(/no job with this id/);
    store.submit('pacs', async () => 2);
    expect(() => store.submit('pacs', async () => 3)).toThrow(/the job store is full \(2 jobs/);
    expect(store.cancel(mine.id, 'pacs')).toMatchObject({ state: 'cancelled' });
    expect(() => store.cancel(mine.id, 'pacs')).toThrow(/the job is cancelled: only a queued job can be cancelled/);
    t += 1000; // the cancelled job expires, making room
    expect(store.submit('pacs', async () => 4).state).toBe('queued');
    expect(store.get(mine.id, 'pacs')).toBeUndefined();
    store.stop();
  });

  it('drops a job nobody will fetch (keep: false) as it finishes, so it holds no room in the store or the key\'s quota', async () => {
    const store = new JobStore({ capacity: 2, perKey: 1, ttlMs: 60_000, idle: () => true });
    for (let i = 0; i < 5; i++) {
      const j = store.submit('pacs', async () => i, { keep: false });
      await settle();
      expect(store.get(j.id, 'pacs')).toBeUndefined();
      expect(store.size).toBe(0);
    }
    // A kept job holds its room until its ttl: the next is refused by the quota.
    store.submit('pacs', async () => 'kept');
    await settle();
    expect(() => store.submit('pacs', async () => 'more')).toThrow(/at most|quota|holds/);
    store.stop();
  });

  it('records a failure in the error shape', async () => {
    const store = new JobStore({ capacity: 5, ttlMs: 1000, idle: () => true });
    const j = store.submit(null, async () => {
      throw fail('nestedTooDeeply', {}, 'instances');
    });
    await settle();
    expect(store.get(j.id, null)).toMatchObject({ state: 'failed', error: { code: 'INVALID_DATA', field: 'instances', error: 'data is nested too deeply' } });
    store.stop();
  });

  it('holds one key to its quota and runs keys in turn, so a flood from one key leaves the others served', async () => {
    let t = 0;
    let busy = true;
    const ran: string[] = [];
    const store = new JobStore({ capacity: 100, perKey: 5, ttlMs: 1000, idle: () => !busy, maxWaitMs: 1e9, clock: () => t });
    for (let i = 0; i < 5; i++) store.submit('flood', async () => ran.push(`flood${i}`));
    expect(() => store.submit('flood', async () => 0)).toThrow(expect.objectContaining({ status: 429,
      message: 'this API key holds 5 jobs not yet expired, its quota (--job-quota); fetch or cancel some, or retry once they expire' }));
    store.submit('ehr', async () => ran.push('ehr0'));
    store.submit('ehr', async () => ran.push('ehr1'));
    busy = false;
    await settle();
    await settle();
    // Round robin: the other key's jobs do not wait behind the whole flood.
    expect(ran.slice(0, 4)).toEqual(['flood0', 'ehr0', 'flood1', 'ehr1']);
    expect(ran).toHaveLength(7);
    // Finished jobs still count until they expire (their results are kept); then the key may submit again.
    expect(() => store.submit('flood', async () => 0)).toThrow('its quota');
    t += 1001;
    expect(store.submit('flood', async () => 0).state).toBe('queued');
    store.stop();
  });
});
