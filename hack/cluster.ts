// `make cluster-up` / `make cluster-down`: the local control plane, with the CRD but no operator,
// kept running in the background: KWOK's fake GPU nodes and, when run as root, the real node where
// pods run (containerd, kubelet, kube-proxy) with our images imported. Its admin kubeconfig is written
// to .clinops/kubeconfig. `import-images` imports freshly built images into the running node.
//   node dist/hack/cluster.js up | down | serve | import-images
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { repoRoot, startControlPlane } from './cluster/controlplane.js';
import { canManageNetwork } from './cluster/network.js';
import { builtImages, importImages } from './cluster/node.js';

const stateDir = join(repoRoot, '.clinops');
const pidFile = join(stateDir, 'cluster.pid');
const kubeconfig = join(stateDir, 'kubeconfig');
const logFile = join(stateDir, 'cluster.log');
/** The running cluster's temp dir (its containerd socket lives there). */
const dirFile = join(stateDir, 'cluster.dir');

function runningPid(): number | undefined {
  if (!existsSync(pidFile)) return undefined;
  const pid = Number(readFileSync(pidFile, 'utf8'));
  try {
    process.kill(pid, 0);
    return pid;
  } catch {
    return undefined;
  }
}

function exportLine(): string {
  return `export KUBECONFIG=${kubeconfig}`;
}

async function up(): Promise<void> {
  if (runningPid() && existsSync(kubeconfig)) {
    console.log(`The local control plane is already running.\n\n  ${exportLine()}\n`);
    return;
  }
  mkdirSync(stateDir, { recursive: true });
  rmSync(kubeconfig, { force: true });
  const out = openSync(logFile, 'w');
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), 'serve'], { detached: true, stdio: ['ignore', out, out] });
  child.unref();
  let exited = false;
  child.on('exit', () => (exited = true));
  const deadline = Date.now() + 300_000; // a real node imports the images first
  while (!existsSync(kubeconfig)) {
    if (exited || Date.now() > deadline) {
      console.error(`The control plane did not start; its log (${logFile}):\n${readFileSync(logFile, 'utf8')}`);
      process.exit(1);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  console.log(readFileSync(logFile, 'utf8').trim());
  console.log(`
The local control plane is running (etcd, kube-apiserver, kube-controller-manager, kube-scheduler, KWOK${
  canManageNetwork() ? ', and a real node: containerd, kubelet, kube-proxy' : ''}),
with the ClinicalModel CRD installed.

  ${exportLine()}
  export PATH=${join(repoRoot, 'bin')}:$PATH   # kubectl 1.33
  kubectl get nodes -o wide -L nvidia.com/gpu.product
  kubectl explain clm.spec.model
  make run            # the operator, out of cluster
  make cluster-down   # stop it
`);
}

async function serve(): Promise<void> {
  // The CRD goes in before kube-controller-manager starts, so its garbage collector knows
  // ClinicalModels from the first moment (otherwise children outlive a deleted model by up to 30 s).
  // Without root there is no real node: KWOK's fake nodes only, as before.
  const cp = await startControlPlane({ crds: [join(repoRoot, 'crds')], realNode: canManageNetwork(), cpuNodes: canManageNetwork() ? 0 : 1 });
  writeFileSync(pidFile, String(process.pid));
  writeFileSync(dirFile, cp.dir);
  copyFileSync(cp.kubeconfig, `${kubeconfig}.tmp`);
  // Renamed into place last: its appearance is what `up` waits for.
  copyFileSync(`${kubeconfig}.tmp`, kubeconfig);
  rmSync(`${kubeconfig}.tmp`);
  process.on('exit', () => {
    rmSync(kubeconfig, { force: true });
    rmSync(pidFile, { force: true });
    rmSync(dirFile, { force: true });
  });
  const stop = () => void cp.stop().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  setInterval(() => {}, 1 << 30);
}

async function down(): Promise<void> {
  const pid = runningPid();
  if (!pid) {
    console.log('The local control plane is not running.');
    rmSync(kubeconfig, { force: true });
    return;
  }
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + 20_000;
  while (runningPid() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  if (runningPid()) process.kill(pid, 'SIGKILL');
  rmSync(kubeconfig, { force: true });
  rmSync(pidFile, { force: true });
  console.log('The local control plane is stopped.');
}

async function importIntoRunning(): Promise<void> {
  if (!runningPid() || !existsSync(dirFile)) {
    console.log('Images built; no local cluster is running (make cluster-up imports them when it starts).');
    return;
  }
  const dir = readFileSync(dirFile, 'utf8').trim();
  if (!existsSync(join(dir, 'containerd', 'containerd.sock'))) {
    console.log('Images built; the running cluster has no real node.');
    return;
  }
  const images = await builtImages(repoRoot);
  await importImages(dir, images);
  console.log(`Imported into the real node: ${images.map((i) => i.ref).join(', ')}`);
}

const command = process.argv[2];
const commands: Record<string, () => Promise<void>> = { up, down, serve, 'import-images': importIntoRunning };
const run = command ? commands[command] : undefined;
if (!run) {
  console.error('usage: node dist/hack/cluster.js up|down');
  process.exit(2);
}
await run();
