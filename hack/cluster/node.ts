// The real node: containerd + runc + the CNI bridge, a kubelet and kube-proxy (built with the other
// binaries from the same pinned Kubernetes module), and our own images imported into containerd, so
// that what the operator deploys runs as real processes in real pods. Everything lives under the
// harness's temp dir; stopNode() (and, for a killed run, the next start's reaper) removes every
// process, mount, network namespace and rule it made.
//
// Facts of our machines it is built around: no CAP_SYS_RESOURCE (containerd's CRI must not set
// oom_score_adj: restrict_oom_score_adj), cgroups v1 with a cgroup2 mount beside them (cgroupfs driver,
// runc), and kube-proxy's refusal of a loopback node address (the node lives on its bridge's address).
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { clientCert, servingCert } from './certs.js';
import { NODE_IP, NODE_NAME, POD_BRIDGE, POD_CIDR, setupNodeNetwork, teardownNodeNetwork } from './network.js';
import { waitFor } from './wait.js';

const execFileP = promisify(execFile);

export const REAL_NODE_LABEL = 'clinops.dev/real-node';
const CGROUPS = '/sys/fs/cgroup';
const CGROUP_ROOT = 'clinops-node';
const IP_FORWARD = '/proc/sys/net/ipv4/ip_forward';

/** What the control plane lends the node: how to start a supervised process, and its cluster's facts. */
export interface NodeContext {
  dir: string;
  binDir: string;
  server: string;
  caCert: string;
  caKey: string;
  startProc(name: string, args: string[], executable?: string): Promise<void>;
  kubeconfigFor(name: string, cert: { cert: string; key: string }): Promise<string>;
  log(line: string): void;
}

export interface ImageArchive {
  ref: string;
  path: string;
}

/** The images hack/images.sh built (it prints their folder; images.list names them). */
export async function builtImages(repoRoot: string): Promise<ImageArchive[]> {
  let folder: string;
  try {
    folder = (await execFileP('bash', [join(repoRoot, 'hack', 'images.sh')], { maxBuffer: 1 << 20 })).stdout.trim();
  } catch (err) {
    throw new Error(`building the images failed (make images): ${(err as { stderr?: string }).stderr ?? String(err)}`);
  }
  const list = await readFile(join(folder, 'images.list'), 'utf8');
  return list.trim().split('\n').map((line) => {
    const [ref, file] = line.split(' ');
    return { ref: ref!, path: join(folder, file!) };
  });
}

function containerdConfig(dir: string, sandboxImage: string): string {
  const d = join(dir, 'containerd');
  return `version = 2
root = "${d}/root"
state = "${d}/state"
disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs", "io.containerd.tracing.processor.v1.otlp"]
[grpc]
  address = "${d}/containerd.sock"
[ttrpc]
  address = "${d}/containerd.sock.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = "${d}/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "${sandboxImage}"
  # No CAP_SYS_RESOURCE here: without this every sandbox fails to start.
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  enable_cdi = false
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "${dir}/cni/net.d"
`;
}

function cniConfig(dir: string): string {
  return JSON.stringify({
    cniVersion: '0.4.0',
    name: 'clinops-pods',
    plugins: [
      {
        type: 'bridge',
        bridge: POD_BRIDGE,
        isGateway: true,
        // The default route through the node: a ClusterIP is reached through kube-proxy's rules on the
        // host; anything beyond the node is dropped there by the forward guard.
        isDefaultGateway: true,
        ipMasq: false,
        hairpinMode: true,
        ipam: { type: 'host-local', ranges: [[{ subnet: POD_CIDR, gateway: NODE_IP }]], dataDir: join(dir, 'cni', 'ipam') },
      },
    ],
  }, null, 2);
}

function kubeletConfig(dir: string, ports: { kubelet: number; healthz: number }, caCert: string, serving: { cert: string; key: string }): string {
  return JSON.stringify({
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    containerRuntimeEndpoint: `unix://${join(dir, 'containerd', 'containerd.sock')}`,
    cgroupDriver: 'cgroupfs',
    // Pods' cgroups under a root of our own: teardown finds (and kills) exactly this node's containers,
    // never those of another kubelet the machine may run.
    cgroupRoot: `/${CGROUP_ROOT}`,
    failCgroupV1: false,
    failSwapOn: false,
    address: NODE_IP,
    port: ports.kubelet,
    readOnlyPort: 0,
    healthzBindAddress: '127.0.0.1',
    healthzPort: ports.healthz,
    tlsCertFile: serving.cert,
    tlsPrivateKeyFile: serving.key,
    // The API server authenticates to the kubelet with a client certificate of the cluster CA (logs, exec).
    authentication: { anonymous: { enabled: false }, webhook: { enabled: false }, x509: { clientCAFile: caCert } },
    authorization: { mode: 'AlwaysAllow' },
    podCIDR: POD_CIDR,
    maxPods: 40,
    clusterDomain: 'cluster.local',
    // Container logs under the harness's dir too, not in the host's /var/log/pods.
    podLogsDir: join(dir, 'node', 'pod-logs'),
    resolvConf: '/etc/resolv.conf',
    serializeImagePulls: false,
    // Our images cannot be pulled again: never garbage-collect them, never evict for a full disk.
    imageGCHighThresholdPercent: 100,
    imageGCLowThresholdPercent: 99,
    evictionHard: { 'memory.available': '100Mi', 'nodefs.available': '1%', 'imagefs.available': '1%', 'nodefs.inodesFree': '1%' },
    nodeStatusUpdateFrequency: '5s',
    syncFrequency: '10s',
    fileCheckFrequency: '20s',
    shutdownGracePeriod: '0s',
    registerNode: true,
    rotateCertificates: false,
    serverTLSBootstrap: false,
    makeIPTablesUtilChains: false,
    localStorageCapacityIsolation: true,
  }, null, 2);
}

function kubeProxyConfig(kubeconfig: string, ports: { metrics: number; healthz: number }): string {
  return JSON.stringify({
    apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
    kind: 'KubeProxyConfiguration',
    clientConnection: { kubeconfig },
    mode: 'iptables',
    hostnameOverride: NODE_NAME,
    clusterCIDR: POD_CIDR,
    // NodePorts answer on the node's own address only, never on the machine's outward interface.
    nodePortAddresses: [`${NODE_IP}/32`],
    metricsBindAddress: `127.0.0.1:${ports.metrics}`,
    healthzBindAddress: `127.0.0.1:${ports.healthz}`,
    // 0: leave the host's conntrack settings as they are (a test harness must not retune the machine).
    conntrack: { maxPerCore: 0, min: 0, tcpEstablishedTimeout: '0s', tcpCloseWaitTimeout: '0s' },
    // Masquerade every Service packet, so a pod reaching a Service backed by a pod on the same bridge
    // gets its answer through the host (where the NAT is undone) rather than straight over the bridge.
    iptables: { masqueradeAll: true, syncPeriod: '10s', minSyncPeriod: '0s' },
  }, null, 2);
}

async function ctr(dir: string, args: string[]): Promise<string> {
  const { stdout } = await execFileP('ctr', ['--address', join(dir, 'containerd', 'containerd.sock'), '--namespace', 'k8s.io', ...args],
    { maxBuffer: 16 << 20 });
  return stdout;
}

/**
 * The node's network, before the API server (which listens on the node's address); resolves when it is
 * up, with `ready`: containerd running and the images imported, which takes a while and runs meanwhile.
 */
export async function startRuntime(ctx: NodeContext, images: ImageArchive[]): Promise<{ ready: Promise<void> }> {
  // Recorded first: the CNI bridge plugin turns forwarding on, and teardown puts back what was there.
  writeFileSync(join(ctx.dir, 'ip_forward.orig'), readFileSync(IP_FORWARD, 'utf8').trim());
  await setupNodeNetwork();
  const ready = startContainerd(ctx, images);
  ready.catch(() => {}); // the caller awaits it; until then a failure must not be an unhandled rejection
  return { ready };
}

async function startContainerd(ctx: NodeContext, images: ImageArchive[]): Promise<void> {
  const t0 = Date.now();
  await mkdir(join(ctx.dir, 'cni', 'net.d'), { recursive: true });
  await writeFile(join(ctx.dir, 'cni', 'net.d', '10-clinops.conflist'), cniConfig(ctx.dir));
  const pause = images.find((i) => i.ref.includes('/pause:'));
  if (!pause) throw new Error('hack/images.sh built no pause image');
  await mkdir(join(ctx.dir, 'containerd'), { recursive: true });
  await writeFile(join(ctx.dir, 'containerd', 'config.toml'), containerdConfig(ctx.dir, pause.ref));
  await ctx.startProc('containerd', ['--config', join(ctx.dir, 'containerd', 'config.toml'), '--log-level', 'warn'], '/usr/bin/containerd');
  await waitFor('containerd', 30_000, () => ctr(ctx.dir, ['version']).then(() => true, () => undefined));
  await importImages(ctx.dir, images);
  ctx.log(`containerd up, images imported in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

/** Import image archives into the node's containerd, under the names pods use; unpacked now, so a pod starts without waiting. */
export async function importImages(dir: string, images: ImageArchive[]): Promise<void> {
  for (const image of images) await ctr(dir, ['images', 'import', image.path]);
}

/** kubelet and kube-proxy, once the API server answers. */
export async function startNodeAgents(ctx: NodeContext, freePort: () => Promise<number>): Promise<void> {
  const node = join(ctx.dir, 'node');
  await mkdir(node, { recursive: true });
  const [kubeletPort, kubeletHealthz, proxyMetrics, proxyHealthz] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
  const kubeletCred = await clientCert(ctx.dir, 'kubelet-client', `/O=system:nodes/CN=system:node:${NODE_NAME}`);
  const kubeletServing = await servingCert(ctx.dir, 'kubelet-serving', [NODE_IP]);
  const proxyCred = await clientCert(ctx.dir, 'kube-proxy', '/CN=system:kube-proxy');
  const kubeletKubeconfig = await ctx.kubeconfigFor('kubelet', kubeletCred);
  const proxyKubeconfig = await ctx.kubeconfigFor('kube-proxy', proxyCred);
  await writeFile(join(node, 'kubelet.json'), kubeletConfig(ctx.dir, { kubelet: kubeletPort, healthz: kubeletHealthz }, ctx.caCert, kubeletServing));
  await writeFile(join(node, 'kube-proxy.json'), kubeProxyConfig(proxyKubeconfig, { metrics: proxyMetrics, healthz: proxyHealthz }));
  makeCgroupRoot();
  await ctx.startProc('kubelet', [
    `--config=${join(node, 'kubelet.json')}`, `--kubeconfig=${kubeletKubeconfig}`,
    `--root-dir=${join(node, 'kubelet')}`, `--cert-dir=${join(node, 'kubelet-pki')}`,
    `--hostname-override=${NODE_NAME}`, `--node-ip=${NODE_IP}`,
    `--node-labels=${REAL_NODE_LABEL}=true`, '--v=1',
  ]);
  await ctx.startProc('kube-proxy', [`--config=${join(node, 'kube-proxy.json')}`, '--v=1']);
}


/** The kubelet's cgroup root in every hierarchy (it must exist); cpuset needs its CPUs and memory nodes. */
function makeCgroupRoot(): void {
  for (const h of readdirSync(CGROUPS)) {
    const dir = join(CGROUPS, h, CGROUP_ROOT);
    try {
      mkdirSync(dir, { recursive: true });
      if (h === 'cpuset') {
        for (const f of ['cpuset.cpus', 'cpuset.mems']) writeFileSync(join(dir, f), readFileSync(join(CGROUPS, h, f), 'utf8'));
      }
    } catch {
      // not a hierarchy (or not writable): the kubelet says which one it misses
    }
  }
}

/** Every process of the node: the shims (their command line names our socket) and every container
 * process, found by its cgroup under the node's cgroup root (a container's root is not a path we see). */
function processesOf(dir: string): number[] {
  const pids = new Set<number>();
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(dir)) pids.add(pid);
    } catch {
      // gone
    }
  }
  const walk = (d: string) => {
    try {
      for (const line of readFileSync(join(d, 'cgroup.procs'), 'utf8').split('\n')) if (line) pids.add(Number(line));
      for (const e of readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) walk(join(d, e.name));
    } catch {
      // gone meanwhile
    }
  };
  for (const hierarchy of ['pids', 'memory', 'unified', '']) {
    const root = join(CGROUPS, hierarchy, CGROUP_ROOT);
    if (existsSync(root)) {
      walk(root);
      break;
    }
  }
  pids.delete(process.pid);
  return [...pids];
}

/** The pod sandboxes containerd ran (their ids name the CNI plugins' cache files). */
function sandboxIds(dir: string): string[] {
  const tasks = join(dir, 'containerd', 'state', 'io.containerd.runtime.v2.task', 'k8s.io');
  return existsSync(tasks) ? readdirSync(tasks) : [];
}

/** Mount points under `dir`, deepest first. */
function mountsUnder(dir: string): string[] {
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n')
    .map((l) => l.split(' ')[4])
    .filter((m): m is string => !!m && (m === dir || m.startsWith(`${dir}/`)));
  return [...new Set(mounts)].sort((a, b) => b.length - a.length);
}

/**
 * Remove what a real node left under `dir` (its own stop, or the reaper after a killed run): stop every
 * container and shim, unmount volumes, rootfs and network namespaces, delete the kubelet's cgroups,
 * take kube-proxy's rules and the node's network down, and restore the forwarding switch.
 * The control plane's own processes are stopped by the caller first.
 */
export async function cleanupNode(dir: string, binDir?: string): Promise<void> {
  if (!existsSync(join(dir, 'ip_forward.orig'))) return; // never had a real node
  for (let i = 0; i < 20; i++) {
    const pids = processesOf(dir);
    if (pids.length === 0) break;
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const results = '/var/lib/cni/results';
  for (const id of sandboxIds(dir)) {
    for (const f of [`cni-loopback-${id}-lo`, `clinops-pods-${id}-eth0`]) rmSync(join(results, f), { force: true });
  }
  for (const m of mountsUnder(dir)) await execFileP('umount', ['-l', m]).catch(() => undefined);
  const left = mountsUnder(dir);
  // The caller removes the dir next: never while a mount (a volume's bind mount of host files) remains.
  if (left.length > 0) throw new Error(`still mounted, so ${dir} is kept: ${left.join(', ')}`);
  for (const ctl of readdirSync(CGROUPS).map((c) => join(CGROUPS, c, CGROUP_ROOT))) {
    if (existsSync(ctl)) await execFileP('find', [ctl, '-depth', '-type', 'd', '-exec', 'rmdir', '{}', ';']).catch(() => undefined);
  }
  const proxy = binDir ? join(binDir, 'kube-proxy') : undefined;
  if (proxy && existsSync(proxy)) await execFileP(proxy, ['--cleanup']).catch(() => undefined);
  await teardownNodeNetwork();
  const forward = readFileSync(join(dir, 'ip_forward.orig'), 'utf8').trim();
  try {
    writeFileSync(IP_FORWARD, forward);
  } catch {
    // read-only /proc/sys: nothing to restore
  }
}

