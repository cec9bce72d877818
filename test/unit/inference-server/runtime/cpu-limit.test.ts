import { cfsQuotaCpus, usableCpus } from '../../../../inference-server/runtime/cpu-limit.js';
import { loadServerConfig } from '../../../../inference-server/config.js';

const files = (entries: Record<string, string>) => (path: string) => entries[path];

describe('the CPU limit of the container', () => {
  it('reads the cgroup v2 quota', () => {
    expect(cfsQuotaCpus(files({ '/sys/fs/cgroup/cpu.max': '150000 100000\n' }))).toBe(1.5);
    expect(cfsQuotaCpus(files({ '/sys/fs/cgroup/cpu.max': 'max 100000\n' }))).toBeUndefined();
  });

  it('reads the cgroup v1 quota (-1 is no limit)', () => {
    expect(cfsQuotaCpus(files({ '/sys/fs/cgroup/cpu/cpu.cfs_quota_us': '50000\n', '/sys/fs/cgroup/cpu/cpu.cfs_period_us': '100000\n' }))).toBe(0.5);
    expect(cfsQuotaCpus(files({ '/sys/fs/cgroup/cpu/cpu.cfs_quota_us': '-1\n', '/sys/fs/cgroup/cpu/cpu.cfs_period_us': '100000\n' }))).toBeUndefined();
    expect(cfsQuotaCpus(files({ '/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us': '200000', '/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us': '100000' }))).toBe(2);
  });

  it('is no limit when no cgroup file is readable', () => {
    expect(cfsQuotaCpus(files({}))).toBeUndefined();
    expect(usableCpus(files({}), 16)).toBe(16);
  });

  it('rounds a limit up, to at least one CPU, and never beyond the visible cores', () => {
    const v2 = (q: string) => files({ '/sys/fs/cgroup/cpu.max': `${q} 100000` });
    expect(usableCpus(v2('50000'), 64)).toBe(1);
    expect(usableCpus(v2('250000'), 64)).toBe(3);
    expect(usableCpus(v2('1600000'), 4)).toBe(4);
  });

  it('sizes the server: a 1-CPU container on a 64-core node gets one worker with one thread', () => {
    const env = {
      CLINOPS_MODEL_PATH: '/models/m.onnx', CLINOPS_MODEL_NAME: 'm', CLINOPS_MODEL_VERSION: '1',
      CLINOPS_MODEL_SHA256: 'a'.repeat(64), CLINOPS_MODEL_LABELS: 'a,b', CLINOPS_ALLOW_UNAUTHENTICATED: 'true',
    };
    const one = loadServerConfig({}, env, usableCpus(files({ '/sys/fs/cgroup/cpu.max': '100000 100000' }), 64));
    expect([one.workers, one.intraOpThreads]).toEqual([1, 1]);
    const four = loadServerConfig({}, env, 4);
    expect([four.workers, four.intraOpThreads]).toEqual([2, 2]);
  });
});
