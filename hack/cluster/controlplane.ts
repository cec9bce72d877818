// A real, throwaway Kubernetes control plane on loopback: etcd, kube-apiserver, kube-controller-manager,
// kube-scheduler and KWOK (which keeps fake nodes Ready and runs their pods), with fake GPU nodes.
// Shared by the integration tests, the benchmarks, `make cluster-up` and `make demo`. Every process
// runs in its own process group and is stopped on stop(), on exit, and on SIGINT/SIGTERM; a later
// start also reaps what a killed run left behind.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { mkdir, mkdtemp, open, readFile, writeFile } from 'node:fs/promises';
import { Agent, request } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createPki } from './certs.js';
import { canManageNetwork, KWOK_NODE_IP, KWOK_POD_CIDR, NODE_IP, NODE_NAME, pruneSink, releaseSink, SERVICE_CIDR, setupSink } from './network.js';
import { builtImages, cleanupNode, startNodeAgents, startRuntime } from './node.js';
import { startMetricsApi } from './autoscaling.js';
import { waitFor } from './wait.js';

const here = dirname(fileURLToPath(import.meta.url));
/** The repository root, from hack/cluster or dist/hack/cluster. */
export const repoRoot = resolve(here, here.includes(`${'/'}dist${'/'}`) ? '../../..' : '../..');

export const GPU_PRODUCT = 'NVIDIA-H100-80GB-HBM3';
export const GPUS_PER_NODE = 4;
const DIR_PREFIX = 'clinops-cp-';

export interface ControlPlaneOptions {
  gpuNodes?: number;
  cpuNodes?: number;
  /** Pod capacity of each fake node. */
  podsPerNode?: number;
  /** Where progress lines go; default stderr. */
  log?: (line: string) => void;
  /** Keep the temp dir after stop (for debugging). */
  keepDir?: boolean;
  /**
   * CRD manifests (files or folders) applied before kube-controller-manager starts, so its garbage
   * collector knows the custom resources from its first sync instead of its next rediscovery (30 s).
   */
  crds?: string[];
  /**
   * Add the real node (containerd, kubelet, kube-proxy) with our images imported, where pods run as
   * processes. The API server then listens on the node's address, where pods reach it. Needs root.
   */
  realNode?: boolean;
  /**
   * With realNode: the custom metrics API HorizontalPodAutoscalers read (Debian's Prometheus and
   * prometheus-adapter, hack/cluster/autoscaling.ts), for spec.serving.autoscaling.
   */
  autoscaling?: boolean;
}

export interface ControlPlane {
  dir: string;
  server: string;
  kubeconfig: string;
  auditLog: string;
  binDir: string;
  startupMs: number;
  /** With autoscaling: the Prometheus that feeds the custom metrics API (loopback). */
  prometheus?: string;
  /** Run a binary from the bin folder (kubectl, helm) against this cluster; resolves stdout. */
  kubectl(args: string[], input?: string): Promise<string>;
  /** Stop one component (e.g. kube-controller-manager), leaving the rest running; SIGKILL simulates a crash. */
  stopComponent(name: Component, signal?: NodeJS.Signals): Promise<void>;
  /** Start a stopped component again with the same flags. */
  startComponent(name: Component): Promise<void>;
  /** SIGSTOP / SIGCONT a component: it keeps its sockets, and answers nothing while paused. */
  pauseComponent(name: Component): void;
  resumeComponent(name: Component): void;
  stop(): Promise<void>;
}

const execFileP = promisify(execFile);

export type Component = 'etcd' | 'kube-apiserver' | 'kube-controller-manager' | 'kube-scheduler' | 'kwok' | 'kubelet' | 'kube-proxy';

/** The folder with the control-plane binaries: CLINOPS_BIN_DIR, else bin/ (made by hack/binaries.sh). */
export function binDir(): string {
  const dir = process.env.CLINOPS_BIN_DIR || join(repoRoot, 'bin');
  const need = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kwok', 'kubectl'];
  const missing = need.filter((b) => !existsSync(join(dir, b)));
  if (missing.length > 0) {
    throw new Error(`control-plane binaries missing in ${dir}: ${missing.join(', ')}. ` +
      'Run `make binaries` (builds them from their Go modules) or set CLINOPS_BIN_DIR to a folder that has them.');
  }
  return dir;
}

export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => res(port));
    });
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

/** Stop what an earlier, killed harness left running: its owner process is gone but its children live on. */
export async function reapOrphans(): Promise<void> {
  for (const entry of readdirSync(tmpdir())) {
    if (!entry.startsWith(DIR_PREFIX)) continue;
    const dir = join(tmpdir(), entry);
    try {
      const owner = Number(readFileSync(join(dir, 'owner.pid'), 'utf8'));
      if (alive(owner)) continue;
      for (const line of readFileSync(join(dir, 'pids'), 'utf8').split('\n')) {
        if (line) killGroup(Number(line), 'SIGKILL');
      }
      // Containers, mounts and network of a real node first: removing the dir must never reach
      // through a volume's bind mount into the files behind it.
      await cleanupNode(dir, binDir());
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // not ours, or half-written: leave it
    }
  }
  if (canManageNetwork()) await pruneSink();
}

function httpsGet(url: string, agent: Agent): Promise<{ status: number; body: string }> {
  return new Promise((res, rej) => {
    const req = request(url, { agent, timeout: 2000 }, (r) => {
      let body = '';
      r.on('data', (c) => (body += c));
      r.on('end', () => res({ status: r.statusCode ?? 0, body }));
    });
    req.on('error', rej);
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.end();
  });
}

export function kubeconfigYaml(server: string, caPath: string, user: { certPath: string; keyPath: string } | { token: string }, name = 'clinops-local'): string {
  const userLines = 'token' in user
    ? `    token: ${user.token}\n`
    : `    client-certificate: ${user.certPath}\n    client-key: ${user.keyPath}\n`;
  return `apiVersion: v1
kind: Config
clusters:
- name: ${name}
  cluster:
    server: ${server}
    certificate-authority: ${caPath}
users:
- name: ${name}-user
  user:
${userLines}contexts:
- name: ${name}
  context:
    cluster: ${name}
    user: ${name}-user
current-context: ${name}
`;
}

const AUDIT_POLICY = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
  # Writes by service accounts of clinops-system (the operator): the tests and the benchmark count them.
  - level: Metadata
    userGroups: ["system:serviceaccounts:clinops-system"]
    verbs: [create, update, patch, delete, deletecollection]
  # The operator's reads of Secrets, with what it was answered: a test sees whether it read a Secret's
  # data or only its metadata (a notification token that did not opt in is never read).
  - level: RequestResponse
    userGroups: ["system:serviceaccounts:clinops-system"]
    verbs: [get]
    resources: [{group: "", resources: [secrets]}]
  - level: None
`;

function nodeManifest(name: string, gpus: number, pods: number): object {
  const labels: Record<string, string> = {
    'kubernetes.io/hostname': name,
    'kubernetes.io/os': 'linux',
    'kubernetes.io/arch': 'amd64',
    type: 'kwok',
  };
  const capacity: Record<string, string> = { cpu: '32', memory: '256Gi', pods: String(pods), 'ephemeral-storage': '500Gi' };
  const spec: Record<string, unknown> = {};
  if (gpus > 0) {
    labels['nvidia.com/gpu.product'] = GPU_PRODUCT;
    labels['nvidia.com/gpu.count'] = String(gpus);
    capacity['nvidia.com/gpu'] = String(gpus);
    spec.taints = [{ key: 'nvidia.com/gpu', value: 'present', effect: 'NoSchedule' }];
  }
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels, annotations: { 'kwok.x-k8s.io/node': 'fake', 'node.alpha.kubernetes.io/ttl': '0' } },
    spec,
    status: { capacity, allocatable: capacity },
  };
}

export async function startControlPlane(opts: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const t0 = Date.now();
  const log = opts.log ?? ((l: string) => process.stderr.write(`controlplane: ${l}\n`));
  const bin = binDir();
  if (opts.realNode && !canManageNetwork()) {
    throw new Error('the real node needs root (containerd, kubelet and its network); run as root or without realNode');
  }
  await reapOrphans();
  // Built (or found in the cache) before anything starts: the first build takes minutes.
  const images = opts.realNode ? await builtImages(repoRoot) : [];
  const dir = await mkdtemp(join(tmpdir(), DIR_PREFIX));
  await writeFile(join(dir, 'owner.pid'), String(process.pid));
  const pidsFile = await open(join(dir, 'pids'), 'a');
  const procs: Array<{ name: string; child: ChildProcess; stopping?: boolean }> = [];
  const argsOf = new Map<string, string[]>();
  let stopped = false;
  let failure: Error | undefined;

  const killAll = (signal: NodeJS.Signals) => {
    for (const { child } of [...procs].reverse()) if (child.pid) killGroup(child.pid, signal);
  };
  // Processes only: what a real node leaves behind (containers, mounts) is the next start's to reap.
  const onExit = () => killAll('SIGKILL');
  const onSignal = (sig: NodeJS.Signals) => {
    void stop().finally(() => process.exit(sig === 'SIGINT' ? 130 : 143));
  };
  process.on('exit', onExit);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const exeOf = new Map<string, string>();
  const startProc = async (name: string, args: string[], executable = join(bin, name)) => {
    argsOf.set(name, args);
    exeOf.set(name, executable);
    const out = await open(join(dir, `${name}.log`), 'a');
    const child = spawn(executable, args, { cwd: dir, detached: true, stdio: ['ignore', out.fd, out.fd] });
    await out.close();
    const entry: (typeof procs)[number] = { name, child };
    procs.push(entry);
    if (child.pid) await pidsFile.write(`${child.pid}\n`);
    child.on('exit', (code, signal) => {
      if (!stopped && !failure && !entry.stopping) {
        failure = new Error(`${name} exited (code ${code}, signal ${signal}); see ${join(dir, `${name}.log`)}:\n` +
          tail(join(dir, `${name}.log`)));
      }
    });
  };
  const check = () => {
    if (failure) throw failure;
  };

  // Every caller waits for the one teardown (a signal handler and the owner may both ask for it).
  let stopping: Promise<void> | undefined;
  const stop = () => (stopping ??= teardown());
  let metricsApi: { prometheus: string; stop(): void } | undefined;
  const teardown = async () => {
    stopped = true;
    metricsApi?.stop();
    killAll('SIGTERM');
    const deadline = Date.now() + 5000;
    while (procs.some(({ child }) => child.exitCode === null && child.signalCode === null) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    killAll('SIGKILL');
    await pidsFile.close().catch(() => {});
    // Before the dir goes: a volume's bind mount under it must be gone before anything is removed.
    const cleaned = await cleanupNode(dir, bin).then(() => true, (err: unknown) => {
      log(`cleaning up the real node: ${String(err)}`);
      return false;
    });
    if (canManageNetwork()) await releaseSink().catch(() => {});
    process.off('exit', onExit);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (!opts.keepDir && cleaned) rmSync(dir, { recursive: true, force: true });
  };

  try {
    // Before any component: a packet to a Service or fake pod address dies here, never off the machine.
    if (canManageNetwork()) await setupSink();
    const host = opts.realNode ? NODE_IP : '127.0.0.1';
    const pki = await createPki(dir, opts.realNode ? [NODE_IP] : []);
    const nodeCtx = {
      dir, binDir: bin, server: '', caCert: pki.caCert, caKey: pki.caKey, startProc, log,
      kubeconfigFor: async (name: string, cred: { cert: string; key: string }) => {
        const path = join(dir, `${name}.kubeconfig`);
        await writeFile(path, kubeconfigYaml(nodeCtx.server, pki.caCert, { certPath: cred.cert, keyPath: cred.key }));
        return path;
      },
    };
    // The node's network holds the address the API server listens on, so it comes first.
    const runtime = opts.realNode ? await startRuntime(nodeCtx, images) : undefined;
    const [etcdClient, etcdPeer, apiPort, kcmPort, schedPort, kwokPort] = await Promise.all(
      Array.from({ length: 6 }, () => freePort()),
    );
    await startProc('etcd', [
      '--name', 'default', '--data-dir', join(dir, 'etcd'),
      '--listen-client-urls', `http://127.0.0.1:${etcdClient}`, '--advertise-client-urls', `http://127.0.0.1:${etcdClient}`,
      '--listen-peer-urls', `http://127.0.0.1:${etcdPeer}`, '--initial-advertise-peer-urls', `http://127.0.0.1:${etcdPeer}`,
      '--initial-cluster', `default=http://127.0.0.1:${etcdPeer}`,
      '--unsafe-no-fsync', '--quota-backend-bytes', String(4 * 1024 ** 3), '--log-level', 'warn',
    ]);
    const auditLog = join(dir, 'audit.log');
    await writeFile(join(dir, 'audit-policy.yaml'), AUDIT_POLICY);
    await startProc('kube-apiserver', [
      `--etcd-servers=http://127.0.0.1:${etcdClient}`,
      `--secure-port=${apiPort}`, `--bind-address=${host}`, `--advertise-address=${host}`,
      `--cert-dir=${join(dir, 'apiserver-certs')}`,
      `--tls-cert-file=${pki.serverCert}`, `--tls-private-key-file=${pki.serverKey}`, `--client-ca-file=${pki.caCert}`,
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      `--service-account-key-file=${pki.saPublicKey}`, `--service-account-signing-key-file=${pki.saPrivateKey}`,
      '--authorization-mode=Node,RBAC', `--service-cluster-ip-range=${SERVICE_CIDR}`,
      // Logs and exec reach the real node's kubelet by its address (its name resolves nowhere).
      `--kubelet-client-certificate=${pki.adminCert}`, `--kubelet-client-key=${pki.adminKey}`,
      '--kubelet-preferred-address-types=InternalIP',
      '--enable-admission-plugins=NodeRestriction', '--allow-privileged=true',
      `--audit-policy-file=${join(dir, 'audit-policy.yaml')}`, `--audit-log-path=${auditLog}`,
      '--audit-log-mode=blocking', '--audit-log-format=json',
      '--max-requests-inflight=800', '--max-mutating-requests-inflight=400',
      // The aggregation layer (a custom metrics API for autoscaling): requests to an aggregated server
      // carry the caller in X-Remote-* headers, sent with the front-proxy client certificate, to the
      // server's Endpoints (no kube-proxy on this host for its ClusterIP).
      `--requestheader-client-ca-file=${pki.caCert}`, '--requestheader-allowed-names=front-proxy-client',
      '--requestheader-username-headers=X-Remote-User', '--requestheader-group-headers=X-Remote-Group',
      '--requestheader-extra-headers-prefix=X-Remote-Extra-',
      `--proxy-client-cert-file=${pki.frontProxyCert}`, `--proxy-client-key-file=${pki.frontProxyKey}`,
      '--enable-aggregator-routing=true',
      '--v=0',
    ]);
    const server = `https://${host}:${apiPort}`;
    nodeCtx.server = server;
    const agent = new Agent({
      ca: await readFile(pki.caCert),
      cert: await readFile(pki.adminCert),
      key: await readFile(pki.adminKey),
      keepAlive: false,
    });
    await waitFor('kube-apiserver /readyz', 60_000, async () => {
      const r = await httpsGet(`${server}/readyz`, agent);
      return r.status === 200 ? true : undefined;
    }, check);
    log(`kube-apiserver ready at ${server} after ${Date.now() - t0} ms`);

    const kubeconfig = join(dir, 'kubeconfig');
    await writeFile(kubeconfig, kubeconfigYaml(server, pki.caCert, { certPath: pki.adminCert, keyPath: pki.adminKey }));
    const kubectl = async (args: string[], input?: string): Promise<string> => {
      const p = execFileP(join(bin, 'kubectl'), [`--kubeconfig=${kubeconfig}`, `--cache-dir=${join(dir, 'kubectl-cache')}`, ...args],
        { maxBuffer: 64 * 1024 * 1024 });
      if (input !== undefined) {
        p.child.stdin?.end(input);
      }
      return (await p).stdout;
    };
    for (const crd of opts.crds ?? []) {
      await kubectl(['apply', '--server-side', '--field-manager=clinops-install', '-f', crd]);
    }

    const clientFlags = [`--kubeconfig=${kubeconfig}`, `--authentication-kubeconfig=${kubeconfig}`, `--authorization-kubeconfig=${kubeconfig}`];
    await mkdir(join(dir, 'kcm-certs'));
    await mkdir(join(dir, 'scheduler-certs'));
    await startProc('kube-controller-manager', [
      ...clientFlags, '--bind-address=127.0.0.1', `--secure-port=${kcmPort}`, `--cert-dir=${join(dir, 'kcm-certs')}`,
      '--leader-elect=false', '--use-service-account-credentials=false',
      `--root-ca-file=${pki.caCert}`, `--service-account-private-key-file=${pki.saPrivateKey}`,
      // Unthrottled, like the operator, so the benchmark compares controllers rather than client rate limits.
      '--kube-api-qps=1000', '--kube-api-burst=2000',
      // On 2 busy cores KWOK's heartbeats can run late; a fake node must not flap NotReady (and take
      // its pods' readiness with it) because a test elsewhere is using the CPU.
      '--node-monitor-grace-period=300s',
      '--controllers=*,-node-ipam-controller,-cloud-node-lifecycle-controller,-service-lb-controller,-node-route-controller',
      '--v=0',
    ]);
    await startProc('kube-scheduler', [
      ...clientFlags, '--bind-address=127.0.0.1', `--secure-port=${schedPort}`, `--cert-dir=${join(dir, 'scheduler-certs')}`,
      '--leader-elect=false', '--kube-api-qps=1000', '--kube-api-burst=2000', '--v=0',
    ]);
    await startProc('kwok', [
      `--kubeconfig=${kubeconfig}`, '--manage-all-nodes=false',
      '--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake',
      `--server-address=127.0.0.1:${kwokPort}`, `--cidr=${KWOK_POD_CIDR}`, `--node-ip=${KWOK_NODE_IP}`,
      // Node leases, renewed: without them a fake node's only heartbeat is its first status, so after the
      // node-monitor grace period the node lifecycle controller marks it Unknown and every pod on it
      // NotReady (seen as fake nodes' pods unready for a minute, five minutes into a run).
      '--node-lease-duration-seconds=40',
    ]);

    if (opts.realNode) {
      await runtime?.ready;
      await startNodeAgents(nodeCtx, freePort);
    }
    if (opts.autoscaling) {
      if (!opts.realNode) throw new Error('autoscaling needs the real node (its pods are what Prometheus scrapes)');
      metricsApi = await startMetricsApi({ dir, repoRoot, binDir: bin, kubeconfig, caCert: pki.caCert, host, nodeName: NODE_NAME, freePort, startProc, kubectl, log });
    }
    const gpuNodes = opts.gpuNodes ?? 2;
    const cpuNodes = opts.cpuNodes ?? 1;
    const pods = opts.podsPerNode ?? 110;
    const nodes = [
      ...Array.from({ length: gpuNodes }, (_, i) => nodeManifest(`gpu-node-${i}`, GPUS_PER_NODE, pods)),
      ...Array.from({ length: cpuNodes }, (_, i) => nodeManifest(`cpu-node-${i}`, 0, pods)),
    ];
    if (nodes.length > 0) await kubectl(['create', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: nodes }));
    await waitFor('fake nodes Ready', 60_000, async () => {
      const out = JSON.parse(await kubectl(['get', 'nodes', '-l', 'type=kwok', '-o', 'json'])) as {
        items: Array<{ spec?: { taints?: Array<{ key: string }> }; status?: { conditions?: Array<{ type: string; status: string }> } }>;
      };
      // Ready, and the not-ready taint that admission puts on every new node lifted by the node lifecycle controller.
      const ready = out.items.filter((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') &&
        !n.spec?.taints?.some((t) => t.key === 'node.kubernetes.io/not-ready'));
      return ready.length === nodes.length ? true : undefined;
    }, check);
    await waitFor('kube-controller-manager (default ServiceAccount)', 60_000, async () => {
      const r = await httpsGet(`${server}/api/v1/namespaces/default/serviceaccounts/default`, agent);
      return r.status === 200 ? true : undefined;
    }, check);
    await waitFor('kube-scheduler /healthz', 30_000, async () => {
      const r = await httpsGet(`https://127.0.0.1:${schedPort}/healthz`, new Agent({ rejectUnauthorized: false }));
      return r.status === 200 ? true : undefined;
    }, check);
    if (opts.realNode) {
      await waitFor(`real node ${NODE_NAME} Ready`, 120_000, async () => {
        const n = JSON.parse(await kubectl(['get', 'node', NODE_NAME, '-o', 'json'])) as {
          spec?: { taints?: Array<{ key: string }> }; status?: { conditions?: Array<{ type: string; status: string }> };
        };
        return n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') &&
          !n.spec?.taints?.some((t) => t.key.startsWith('node.kubernetes.io/')) ? true : undefined;
      }, check);
    }
    const startupMs = Date.now() - t0;
    log(`control plane ready in ${(startupMs / 1000).toFixed(1)} s: ${gpuNodes} GPU nodes (${GPUS_PER_NODE}× ${GPU_PRODUCT}), ` +
      `${cpuNodes} fake CPU node(s)${opts.realNode ? `, real node ${NODE_NAME} (${NODE_IP})` : ''}; dir ${dir}`);
    const stopComponent = async (name: Component, signal: NodeJS.Signals = 'SIGTERM') => {
      const entry = procs.find((p) => p.name === name && p.child.exitCode === null && p.child.signalCode === null);
      if (!entry) return;
      entry.stopping = true;
      const exited = new Promise((r) => entry.child.once('exit', r));
      if (entry.child.pid) killGroup(entry.child.pid, signal);
      await exited;
      procs.splice(procs.indexOf(entry), 1);
    };
    const startComponent = async (name: Component) => {
      const args = argsOf.get(name);
      if (!args) throw new Error(`unknown component ${name}`);
      await startProc(name, args, exeOf.get(name));
    };
    const signalComponent = (name: Component, signal: NodeJS.Signals) => {
      const entry = procs.find((p) => p.name === name && p.child.exitCode === null && p.child.signalCode === null);
      if (!entry?.child.pid) throw new Error(`${name} is not running`);
      killGroup(entry.child.pid, signal);
    };
    const pauseComponent = (name: Component) => signalComponent(name, 'SIGSTOP');
    const resumeComponent = (name: Component) => signalComponent(name, 'SIGCONT');
    return { dir, server, kubeconfig, auditLog, binDir: bin, startupMs, kubectl, stopComponent, startComponent, pauseComponent, resumeComponent, stop, ...(metricsApi ? { prometheus: metricsApi.prometheus } : {}) };
  } catch (err) {
    await stop();
    throw err;
  }
}

function tail(path: string, lines = 20): string {
  try {
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}
