// The local cluster's network, laid out so that no cluster packet can leave this machine.
//
//   clinops-br0    the pods' bridge: 10.245.0.0/24, the node's own address 10.245.0.1 on it. The CNI
//                  bridge plugin attaches pods to it; the harness makes it first, so the API server can
//                  listen on the node address before any pod exists.
//   clinops-sink   a bridge with no ports. The Service range and KWOK's fake ranges (its pod IPs and node
//                  IP, which no process answers on) are routed into it: a packet that kube-proxy has not
//                  rewritten (yet) dies here instead of following the default route off the machine.
//   CLINOPS-GUARD  an iptables chain in FORWARD: nothing is forwarded between the pods' bridge and any
//                  other interface, so a pod cannot reach past this machine either.
//
// The sink and its routes are shared by every harness on the machine (the integration tests' control
// plane and a real-node one may run side by side); each harness registers itself, and the last one out
// takes them down. The pods' bridge and the guard belong to the single real node.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);

export const NODE_NAME = 'clinops-node';
export const NODE_IP = '10.245.0.1';
export const POD_CIDR = '10.245.0.0/24';
export const SERVICE_CIDR = '10.96.0.0/16';
/** KWOK hands out pod IPs from here and gives its fake nodes this address; nothing answers on either. */
export const KWOK_POD_CIDR = '10.244.0.0/16';
export const KWOK_NODE_IP = '10.0.0.2';
export const POD_BRIDGE = 'clinops-br0';
export const SINK = 'clinops-sink';
const GUARD = 'CLINOPS-GUARD';
const SINK_ROUTES = [SERVICE_CIDR, KWOK_POD_CIDR, `${KWOK_NODE_IP}/32`];
/** Interfaces a cluster address may route to. */
const LOCAL_DEVICES = new Set(['lo', POD_BRIDGE, SINK]);
const USERS_DIR = '/run/clinops/network-users';

async function run(cmd: string, args: string[]): Promise<string> {
  try {
    return (await execFileP(cmd, args)).stdout;
  } catch (err) {
    const e = err as { stderr?: string; code?: string };
    if (e.code === 'ENOENT') throw new Error(`${cmd} is not installed: run \`make deps\``);
    throw new Error(`${cmd} ${args.join(' ')}: ${(e.stderr ?? String(err)).trim()}`);
  }
}

async function quiet(cmd: string, args: string[]): Promise<void> {
  await execFileP(cmd, args).catch(() => undefined);
}

/** Whether this process may change the host's network (root); without it no harness touches routes. */
export function canManageNetwork(): boolean {
  return process.getuid?.() === 0;
}

function linkExists(name: string): boolean {
  return existsSync(`/sys/class/net/${name}`);
}

function liveUsers(): string[] {
  if (!existsSync(USERS_DIR)) return [];
  return readdirSync(USERS_DIR).filter((pid) => {
    try {
      process.kill(Number(pid), 0);
      return true;
    } catch {
      rmSync(join(USERS_DIR, pid), { force: true });
      return false;
    }
  });
}

/** Route the Service range and KWOK's fake ranges into the sink; idempotent, shared between harnesses. */
export async function setupSink(owner = process.pid): Promise<void> {
  mkdirSync(USERS_DIR, { recursive: true });
  writeFileSync(join(USERS_DIR, String(owner)), '');
  if (!linkExists(SINK)) {
    await run('ip', ['link', 'add', SINK, 'type', 'bridge']);
  }
  await run('ip', ['link', 'set', SINK, 'up']);
  for (const cidr of SINK_ROUTES) await run('ip', ['route', 'replace', cidr, 'dev', SINK]);
  for (const cidr of SINK_ROUTES) await assertLocalRoute(cidr.split('/')[0]!);
}

/** Drop this harness's claim on the sink; the last harness out removes it (and its routes with it). */
export async function releaseSink(owner = process.pid): Promise<void> {
  rmSync(join(USERS_DIR, String(owner)), { force: true });
  await pruneSink();
}

/** Remove the sink if no live harness claims it (claims of killed harnesses do not count). */
export async function pruneSink(): Promise<void> {
  if (liveUsers().length === 0 && linkExists(SINK)) await quiet('ip', ['link', 'del', SINK]);
}

/** The pods' bridge with the node's address, and the forward guard. Fails if another real node holds them. */
export async function setupNodeNetwork(): Promise<void> {
  if (linkExists(POD_BRIDGE)) {
    throw new Error(`${POD_BRIDGE} exists: another real node is running on this machine (make cluster-down), ` +
      `or a killed run left it behind (ip link del ${POD_BRIDGE})`);
  }
  await run('ip', ['link', 'add', POD_BRIDGE, 'type', 'bridge']);
  await run('ip', ['addr', 'add', `${NODE_IP}/24`, 'dev', POD_BRIDGE]);
  await run('ip', ['link', 'set', POD_BRIDGE, 'up']);
  await quiet('iptables', ['-w', '-N', GUARD]);
  await run('iptables', ['-w', '-F', GUARD]);
  await run('iptables', ['-w', '-A', GUARD, '-i', POD_BRIDGE, '-o', POD_BRIDGE, '-j', 'RETURN']);
  await run('iptables', ['-w', '-A', GUARD, '-i', POD_BRIDGE, '-j', 'DROP']);
  await run('iptables', ['-w', '-A', GUARD, '-o', POD_BRIDGE, '-j', 'DROP']);
  const jump = ['FORWARD', '-j', GUARD];
  if (!(await execFileP('iptables', ['-w', '-C', ...jump]).then(() => true, () => false))) {
    await run('iptables', ['-w', '-I', ...jump]);
  }
  await assertLocalRoute(NODE_IP);
}

/**
 * Undo setupNodeNetwork, and remove the KUBE-* chains kube-proxy and the kubelet leave behind even after
 * `kube-proxy --cleanup` (their canaries, the kubelet's firewall and masquerade marks). Safe to call
 * when nothing was set up, or half of it.
 */
export async function teardownNodeNetwork(): Promise<void> {
  await quiet('iptables', ['-w', '-D', 'FORWARD', '-j', GUARD]);
  await quiet('iptables', ['-w', '-F', GUARD]);
  await quiet('iptables', ['-w', '-X', GUARD]);
  for (const cmd of ['iptables', 'ip6tables']) {
    for (const table of ['filter', 'nat', 'mangle']) await removeKubeChains(cmd, table);
  }
  if (linkExists(POD_BRIDGE)) await quiet('ip', ['link', 'del', POD_BRIDGE]);
}

async function removeKubeChains(cmd: string, table: string): Promise<void> {
  const rules = await execFileP(cmd, ['-w', '-t', table, '-S']).then((r) => r.stdout.split('\n'), () => [] as string[]);
  for (const rule of rules) {
    // Jumps from the built-in chains first, then the chains themselves.
    const m = /^-A (\S+) (.*-j KUBE-\S+.*)$/.exec(rule);
    if (m && !m[1]!.startsWith('KUBE-')) await quiet(cmd, ['-w', '-t', table, '-D', m[1]!, ...m[2]!.match(/"[^"]*"|\S+/g)!.map((t) => t.replace(/^"|"$/g, ''))]);
  }
  const chains = rules.flatMap((r) => /^-N (KUBE-\S+)$/.exec(r)?.[1] ?? []);
  for (const c of chains) await quiet(cmd, ['-w', '-t', table, '-F', c]);
  for (const c of chains) await quiet(cmd, ['-w', '-t', table, '-X', c]);
}

/** The interface the kernel would send a packet to `address` through. */
export async function routeDevice(address: string): Promise<string> {
  const out = JSON.parse(await run('ip', ['-j', 'route', 'get', address])) as Array<{ dev?: string; type?: string }>;
  return out[0]?.dev ?? out[0]?.type ?? 'unknown';
}

/**
 * Refuse to go on unless a packet to `address` stays on this machine (loopback, the pods' bridge, the
 * sink). Every test or demo step that talks to a pod IP or a ClusterIP calls this first.
 */
export async function assertLocalRoute(address: string): Promise<void> {
  const dev = await routeDevice(address);
  if (!LOCAL_DEVICES.has(dev)) {
    throw new Error(`refusing to send to ${address}: it routes through ${dev}, off this machine ` +
      `(expected one of ${[...LOCAL_DEVICES].join(', ')})`);
  }
}

/** fetch() to a cluster address (pod IP or ClusterIP), after checking that its route stays local. */
export async function clusterFetch(url: string, init?: RequestInit): Promise<Response> {
  await assertLocalRoute(new URL(url).hostname);
  return fetch(url, { ...init, signal: init?.signal ?? AbortSignal.timeout(10_000) });
}
