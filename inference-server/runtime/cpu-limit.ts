// How many CPUs this process may really use. Node's os.availableParallelism() counts the host's (or
// the cpuset's) cores, not the container's CPU limit: a pod limited to 1 CPU on a 64-core node would
// start 32 workers of 2 threads each and spend its quota being throttled. The limit is the CFS quota:
//   cgroup v2: /sys/fs/cgroup/cpu.max             "QUOTA PERIOD" or "max PERIOD"
//   cgroup v1: /sys/fs/cgroup/cpu/cpu.cfs_quota_us and cpu.cfs_period_us (quota -1: none)
// The result is ceil(quota / period), at least 1, and never more than the cores Node sees.
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

/** Reads a file's text, or undefined when it does not exist (no such cgroup version here). */
export type ReadFile = (path: string) => string | undefined;

const readOrUndefined: ReadFile = (path) => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
};

/** The CFS quota in CPUs (fractional), or undefined when the process has no CPU limit. */
export function cfsQuotaCpus(read: ReadFile = readOrUndefined): number | undefined {
  const v2 = read('/sys/fs/cgroup/cpu.max')?.trim().split(/\s+/);
  if (v2 && v2.length === 2) {
    const [quota, period] = v2;
    return quota === 'max' ? undefined : ratio(Number(quota), Number(period));
  }
  for (const dir of ['/sys/fs/cgroup/cpu', '/sys/fs/cgroup/cpu,cpuacct']) {
    const quota = read(`${dir}/cpu.cfs_quota_us`);
    const period = read(`${dir}/cpu.cfs_period_us`);
    if (quota !== undefined && period !== undefined) return Number(quota) < 0 ? undefined : ratio(Number(quota), Number(period));
  }
  return undefined;
}

function ratio(quota: number, period: number): number | undefined {
  return Number.isFinite(quota) && Number.isFinite(period) && quota > 0 && period > 0 ? quota / period : undefined;
}

/** Whole CPUs to size workers and threads by: the CPU limit rounded up, capped by the visible cores. */
export function usableCpus(read: ReadFile = readOrUndefined, visible = availableParallelism()): number {
  const quota = cfsQuotaCpus(read);
  return quota === undefined ? visible : Math.max(1, Math.min(visible, Math.ceil(quota)));
}
