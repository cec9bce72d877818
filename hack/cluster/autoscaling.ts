// The custom metrics API a HorizontalPodAutoscaler reads, as a hospital cluster runs it: Debian's
// Prometheus scraping the inference pods' monitoring port on the real node, and prometheus-adapter
// (built from its Go module, hack/prometheus-adapter.sh) serving custom.metrics.k8s.io from it with the
// chart's own rules (charts/clinops/files/prometheus-adapter-rules.yaml). The API server reaches the
// adapter through the aggregation layer (an APIService, a selector-less Service and its Endpoints at the
// node's address); kube-controller-manager's HPA controller reads it there. Prometheus listens on
// loopback; the adapter on the node's address (where the API server reaches it), TLS with a certificate
// of the cluster CA and every request authenticated and authorized by the API server.
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { servingCert } from './certs.js';
import { until } from './wait.js';

interface ListedPod {
  metadata: { namespace: string; name: string };
  spec?: { nodeName?: string; containers?: Array<{ ports?: Array<{ name?: string; containerPort: number }> }> };
  status?: { podIP?: string };
}

export const ADAPTER_SERVICE = { namespace: 'kube-system', name: 'prometheus-adapter' };

export interface MetricsApiContext {
  dir: string;
  repoRoot: string;
  binDir: string;
  kubeconfig: string;
  caCert: string;
  /** The address the API server reaches the adapter on (the real node's). */
  host: string;
  /** Only pods on this node are scraped (the fake nodes' pods answer nothing). */
  nodeName: string;
  freePort(): Promise<number>;
  startProc(name: string, args: string[], executable?: string): Promise<void>;
  kubectl(args: string[], input?: string): Promise<string>;
  log(line: string): void;
}

/** Debian's prometheus binary (the package hack/deps.sh installs for promtool). */
function prometheusBinary(): string {
  for (const p of ['/usr/bin/prometheus', '/usr/local/bin/prometheus']) if (existsSync(p)) return p;
  throw new Error('prometheus is not installed: run `make deps` (Debian package prometheus)');
}

export async function startMetricsApi(ctx: MetricsApiContext): Promise<{ prometheus: string; stop(): void }> {
  const adapter = join(ctx.binDir, 'prometheus-adapter');
  if (!existsSync(adapter)) throw new Error('bin/prometheus-adapter is missing: run `make binaries`');
  const [promPort, adapterPort] = [await ctx.freePort(), await ctx.freePort()];
  const dir = join(ctx.dir, 'metrics-api');
  await mkdir(join(dir, 'tsdb'), { recursive: true });

  // Prometheus: every five seconds, the monitoring port of each inference pod on the real node. Debian
  // builds Prometheus without its Kubernetes service discovery, so the harness lists those pods into a
  // file_sd targets file every 2 s (a hospital's Prometheus finds them with the chart's PodMonitor).
  const targets = join(dir, 'targets.json');
  await writeFile(targets, '[]');
  await writeFile(join(dir, 'prometheus.yml'), JSON.stringify({
    global: { scrape_interval: '5s', scrape_timeout: '4s', evaluation_interval: '5s' },
    scrape_configs: [{ job_name: 'clinops-models', file_sd_configs: [{ files: [targets], refresh_interval: '2s' }] }],
  }));
  let listing = false;
  const list = async () => {
    if (listing) return;
    listing = true;
    try {
      const pods = JSON.parse(await ctx.kubectl(['get', 'pods', '--all-namespaces', '-l', 'app.kubernetes.io/name=clinops-model', '-o', 'json'])) as { items: ListedPod[] };
      const found = pods.items.flatMap((p) => {
        const port = p.spec?.containers?.flatMap((c) => c.ports ?? []).find((x) => x.name === 'monitoring')?.containerPort;
        if (p.spec?.nodeName !== ctx.nodeName || !p.status?.podIP || !port) return [];
        return [{ targets: [`${p.status.podIP}:${port}`], labels: { namespace: p.metadata.namespace, pod: p.metadata.name } }];
      });
      await writeFile(`${targets}.tmp`, JSON.stringify(found));
      await rename(`${targets}.tmp`, targets);
    } catch {
      // The API server stopping, or a moment's error: the next round lists again.
    } finally {
      listing = false;
    }
  };
  const prometheus = `http://127.0.0.1:${promPort}`;
  await ctx.startProc('prometheus', [
    `--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'tsdb')}`,
    `--web.listen-address=127.0.0.1:${promPort}`, '--storage.tsdb.retention.time=2h', '--log.level=warn',
  ], prometheusBinary());
  await until('Prometheus ready', async () => (await fetch(`${prometheus}/-/ready`).catch(() => undefined))?.ok === true, 60_000, 200);

  // The adapter: the chart's rules, its serving certificate for the name the API server dials.
  const cert = await servingCert(dirname(ctx.caCert), 'prometheus-adapter', [ctx.host], [`${ADAPTER_SERVICE.name}.${ADAPTER_SERVICE.namespace}.svc`]);
  await ctx.startProc('prometheus-adapter', [
    `--secure-port=${adapterPort}`, `--bind-address=${ctx.host}`,
    `--tls-cert-file=${cert.cert}`, `--tls-private-key-file=${cert.key}`,
    `--lister-kubeconfig=${ctx.kubeconfig}`, `--authentication-kubeconfig=${ctx.kubeconfig}`, `--authorization-kubeconfig=${ctx.kubeconfig}`,
    `--prometheus-url=${prometheus}`, `--config=${join(ctx.repoRoot, 'charts', 'clinops', 'files', 'prometheus-adapter-rules.yaml')}`,
    '--metrics-relist-interval=10s', '--v=1',
  ], adapter);

  // Registered with the aggregation layer (the API server routes to the Endpoints' address).
  const ca = (await readFile(ctx.caCert)).toString('base64');
  await ctx.kubectl(['apply', '--server-side', '--field-manager=clinops-harness', '-f', '-'], JSON.stringify({
    apiVersion: 'v1', kind: 'List', items: [
      { apiVersion: 'v1', kind: 'Service', metadata: ADAPTER_SERVICE, spec: { ports: [{ name: 'https', port: 443, targetPort: adapterPort }] } },
      { apiVersion: 'v1', kind: 'Endpoints', metadata: ADAPTER_SERVICE, subsets: [{ addresses: [{ ip: ctx.host }], ports: [{ name: 'https', port: adapterPort }] }] },
      {
        apiVersion: 'apiregistration.k8s.io/v1', kind: 'APIService', metadata: { name: 'v1beta1.custom.metrics.k8s.io' },
        spec: { service: { ...ADAPTER_SERVICE, port: 443 }, group: 'custom.metrics.k8s.io', version: 'v1beta1', caBundle: ca, groupPriorityMinimum: 100, versionPriority: 100 },
      },
    ],
  }));
  await until('custom.metrics.k8s.io available', async () => {
    const s = JSON.parse(await ctx.kubectl(['get', 'apiservice', 'v1beta1.custom.metrics.k8s.io', '-o', 'json'])) as { status?: { conditions?: Array<{ type: string; status: string }> } };
    return s.status?.conditions?.some((c) => c.type === 'Available' && c.status === 'True') === true;
  }, 90_000, 1000);
  const timer = setInterval(() => void list(), 2000);
  timer.unref();
  ctx.log(`custom metrics API ready (Prometheus at ${prometheus}, prometheus-adapter at ${ctx.host}:${adapterPort})`);
  return { prometheus, stop: () => clearInterval(timer) };
}
