// A real node whose owner was killed (SIGKILL: no teardown ran) leaves containers, mounts, a bridge and
// iptables chains behind; the next harness start reaps all of it, as it reaps a killed control plane.
import { execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { jest } from '@jest/globals';
import { reapOrphans, repoRoot } from '../../hack/cluster/controlplane.js';
import { POD_BRIDGE } from '../../hack/cluster/network.js';

jest.setTimeout(300_000);
const execFileP = promisify(execFile);

const OWNER = `
import { startControlPlane } from './dist/hack/cluster/controlplane.js';
const cp = await startControlPlane({ realNode: true, gpuNodes: 0, cpuNodes: 0, log: () => {} });
const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'sleeper', namespace: 'default' },
  spec: { containers: [{ name: 'c', image: 'clinops/pause:3.10', imagePullPolicy: 'Never' }] } };
await cp.kubectl(['apply', '-f', '-'], JSON.stringify(pod));
await cp.kubectl(['wait', '--for=condition=Ready', 'pod/sleeper', '--timeout=120s']);
console.log('READY ' + cp.dir);
setInterval(() => {}, 1 << 30);
`;

const mountsUnder = (dir: string) => readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.split(' ')[4]?.startsWith(dir));
/** Processes in the node's cgroups (its containers'). */
async function nodeProcs(): Promise<number> {
  const root = '/sys/fs/cgroup/pids/clinops-node';
  if (!existsSync(root)) return 0;
  const { stdout } = await execFileP('find', [root, '-name', 'cgroup.procs', '-exec', 'cat', '{}', ';']);
  return stdout.split('\n').filter(Boolean).length;
}
const ipForward = () => readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim();
const kubeChains = async () => (await execFileP('iptables', ['-w', '-S'])).stdout.split('\n').filter((l) => /KUBE-|CLINOPS-/.test(l)).length;

it('reaps what a SIGKILLed real node left: containers, mounts, the bridge, the rules', async () => {
  const forwardBefore = ipForward();
  const owner = spawn(process.execPath, ['--input-type=module', '-e', OWNER], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'] });
  const dir = await new Promise<string>((resolve, reject) => {
    let out = '';
    owner.stdout!.on('data', (c) => {
      out += c;
      const m = /READY (\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    owner.once('exit', (code) => reject(new Error(`the owner exited (${code}) before its pod was ready`)));
  });
  const exited = new Promise((r) => owner.once('exit', r));
  owner.kill('SIGKILL');
  await exited;
  await new Promise((r) => setTimeout(r, 500));
  // What a killed run leaves: its pod's processes, mounts under its dir, the bridge, kube-proxy's rules.
  expect(await nodeProcs()).toBeGreaterThan(0);
  expect(mountsUnder(dir).length).toBeGreaterThan(0);
  expect(existsSync(`/sys/class/net/${POD_BRIDGE}`)).toBe(true);
  expect(await kubeChains()).toBeGreaterThan(0);

  await reapOrphans();
  expect(await nodeProcs()).toBe(0);
  expect(mountsUnder(dir)).toEqual([]);
  expect(existsSync(dir)).toBe(false);
  expect(existsSync(`/sys/class/net/${POD_BRIDGE}`)).toBe(false);
  expect(await kubeChains()).toBe(0);
  // The CNI bridge plugin switched forwarding on for its pods; the reaper puts back what was there.
  expect(ipForward()).toBe(forwardBefore);
});
