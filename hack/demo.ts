// `make demo`: the local story, narrated. A real control plane with fake GPU nodes, the operator as
// its own process under its own ServiceAccount, a GPU model going from YAML to scheduled pods, a real
// inference server answering a chest X-ray upload, and a sepsis model watched for drift: reference
// traffic → no drift; shifted traffic → level 1 (alert); a stronger shift → level 2 (paused); a
// reviewer's acknowledgement → serving again; a patient-safety event → level 3 (shut down, incident).
// With a terminal attached, the cluster stays up afterwards for you to look around (Ctrl-C stops it).
import { type ChildProcess, spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { freePort, repoRoot, startControlPlane, type ControlPlane } from '../test/harness/controlplane.js';
import { helm, helmInstall } from '../test/harness/helm.js';
import { generateAll, mlpInputs, SMALL_CNN_SIZE } from '../test/models/generate.js';

const bold = (s: string) => (process.stdout.isTTY ? `\x1b[1m${s}\x1b[0m` : s);
let step = 0;
function say(title: string, text = ''): void {
  step += 1;
  console.log(`\n${bold(`${step}. ${title}`)}${text ? `\n${text}` : ''}`);
}

async function show(cp: ControlPlane, args: string[]): Promise<string> {
  const out = await cp.kubectl(args);
  console.log(`$ kubectl ${args.join(' ')}\n${out.trimEnd()}`);
  return out;
}

async function until(what: string, probe: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`demo: timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function jsonOf(cp: ControlPlane, args: string[]): Promise<any> { // eslint-disable-line @typescript-eslint/no-explicit-any
  return JSON.parse(await cp.kubectl([...args, '-o', 'json']));
}

async function main(): Promise<void> {
  const stateDir = join(repoRoot, '.clinops');
  mkdirSync(stateDir, { recursive: true });
  say('Starting a local control plane', 'etcd, kube-apiserver, kube-controller-manager, kube-scheduler and KWOK, built from their Go modules.');
  const cp = await startControlPlane({ crds: [], log: (l) => console.log(`   ${l}`) });
  let operator: ChildProcess | undefined;
  let server: ChildProcess | undefined;
  let sepsisServer: ChildProcess | undefined;
  const cleanup = async () => {
    operator?.kill('SIGTERM');
    server?.kill('SIGTERM');
    sepsisServer?.kill('SIGTERM');
    await cp.stop();
  };
  try {
    await show(cp, ['get', 'nodes', '-L', 'nvidia.com/gpu.product', '-L', 'nvidia.com/gpu.count']);

    say('Installing clinops with Helm', '`helm install clinops charts/clinops -n clinops-system` into a namespace that enforces Pod Security\n' +
      '"restricted": the CRD, the operator Deployment (2 replicas, leader election), its ServiceAccount and least-privilege RBAC.');
    const installed = await helmInstall(cp);
    const operatorKubeconfig = installed.operatorKubeconfig;
    console.log(`$ helm list -n clinops-system\n${(await helm(cp, ['list', '-n', 'clinops-system'])).trimEnd()}`);
    await show(cp, ['api-resources', '--api-group=clinops.dev']);
    await show(cp, ['-n', 'clinops-system', 'get', 'deployment,pods,serviceaccount', '-l', 'app.kubernetes.io/instance=clinops']);

    say('Starting the operator', 'KWOK\'s fake nodes run no containers, so the chart\'s operator pods are scheduled but idle; the operator runs\n' +
      'here as its own process, authenticated with the chart\'s ServiceAccount token (not as admin).\n' +
      'Outside the cluster it cannot reach pod IPs, so --model-endpoint points the drift checks of the sepsis model at a local server.');
    const port = await freePort();
    const sepsisPort = await freePort();
    const sepsisUrl = `http://127.0.0.1:${sepsisPort}`;
    const logPath = join(stateDir, 'demo-operator.log');
    const out = openSync(logPath, 'w');
    operator = spawn(process.execPath, [join(repoRoot, 'dist', 'cli', 'main.js'), 'operator',
      `--kubeconfig=${operatorKubeconfig}`, `--http-address=127.0.0.1:${port}`, '--lease-namespace=clinops-system', `--lease-name=${installed.leaseName}`,
      '--identity=demo-operator', `--model-endpoint=icu/sepsis-early-warning=${sepsisUrl}`], { stdio: ['ignore', out, out] });
    process.on('exit', () => operator?.kill('SIGKILL'));
    await until('operator ready', async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).ok);
    console.log(`   operator logs (JSON lines): ${logPath}\n   metrics: http://127.0.0.1:${port}/metrics`);

    say('Applying a ClinicalModel', 'samples/pneumonia-cxr.yaml: a chest X-ray classifier, 2 replicas, one H100 each, with its API-key Secret\n' +
      'and reference distribution; samples/local/ adds the volume the local cluster needs.');
    await show(cp, ['apply', '-f', join(repoRoot, 'samples', 'pneumonia-cxr.yaml'), '-f', join(repoRoot, 'samples', 'pneumonia-cxr-reference.yaml'),
      '-f', join(repoRoot, 'samples', 'local', 'models-volume.yaml')]);
    await until('pneumonia-cxr Serving', async () => (await jsonOf(cp, ['-n', 'radiology', 'get', 'clm', 'pneumonia-cxr'])).status?.phase === 'Serving');
    await show(cp, ['-n', 'radiology', 'get', 'clm']);
    await show(cp, ['-n', 'radiology', 'get', 'deployment,service', '-l', 'app.kubernetes.io/instance=pneumonia-cxr']);
    await show(cp, ['-n', 'radiology', 'get', 'pods', '-o', 'custom-columns=POD:.metadata.name,NODE:.spec.nodeName,GPUS:.spec.containers[0].resources.limits.nvidia\\.com/gpu']);
    console.log('   Both pods landed on GPU nodes: the operator set the nvidia.com/gpu limit, the GPU product node selector and the GPU toleration.');

    say('Scaling through the ClinicalModel', 'The scale subresource maps to spec.serving.replicas.');
    await show(cp, ['-n', 'radiology', 'scale', 'clm/pneumonia-cxr', '--replicas=3']);
    await until('3 ready', async () => (await jsonOf(cp, ['-n', 'radiology', 'get', 'clm', 'pneumonia-cxr'])).status?.readyReplicas === 3);
    await show(cp, ['-n', 'radiology', 'get', 'clm']);

    say('Asking for more GPUs than any node has', 'A second model wants 16 GPUs per replica; the nodes have 4.');
    await cp.kubectl(['apply', '-f', '-'], JSON.stringify({
      apiVersion: 'clinops.dev/v1alpha1', kind: 'ClinicalModel',
      metadata: { name: 'too-big', namespace: 'radiology' },
      spec: {
        model: { uri: 'pvc://models/too-big/model.onnx', sha256: '0'.repeat(64), version: '1.0.0', labels: ['Normal', 'Pneumonia'] },
        serving: { replicas: 1, gpu: { count: 16 } },
      },
    }));
    await until('Unschedulable', async () => {
      const c = await jsonOf(cp, ['-n', 'radiology', 'get', 'clm', 'too-big']);
      return c.status?.conditions?.some((x: { reason: string }) => x.reason === 'Unschedulable');
    });
    await show(cp, ['-n', 'radiology', 'get', 'clm', 'too-big', '-o',
      'jsonpath={range .status.conditions[*]}{.type}={.status} ({.reason}): {.message}{"\\n"}{end}']);

    say('Rejecting a bad resource at the API server', 'A sha256 that is not 64 hex characters never reaches the operator.');
    try {
      await cp.kubectl(['apply', '-f', '-'], JSON.stringify({
        apiVersion: 'clinops.dev/v1alpha1', kind: 'ClinicalModel', metadata: { name: 'bad', namespace: 'radiology' },
        spec: { model: { uri: 'pvc://models/x.onnx', sha256: 'abc', version: '1', labels: ['a'] } },
      }));
    } catch (err) {
      console.log(`   ${((err as { stderr?: string }).stderr ?? '').trim()}`);
    }

    say('Deleting', 'The Deployment and Service are owned by the ClinicalModel; the garbage collector removes them.');
    await show(cp, ['-n', 'radiology', 'delete', 'clm', 'too-big']);
    // The garbage collector learns a CRD installed after it started at its next discovery (within 30 s).
    await until('too-big children gone', async () => (await jsonOf(cp, ['-n', 'radiology', 'get', 'deployments'])).items.length === 1, 90_000);
    await show(cp, ['-n', 'radiology', 'get', 'deployments']);

    say('Serving a model for real', 'The fake nodes run no containers, so the inference server runs here: a generated chest X-ray CNN,\n' +
      'its sha256 checked before loading, a PNG sent to it, and the monitoring window the drift checks read.');
    const model = generateAll(join(stateDir, 'models'), false)['cnn-small']!;
    const serverPort = await freePort();
    const serverLog = openSync(join(stateDir, 'demo-server.log'), 'w');
    server = spawn(process.execPath, [join(repoRoot, 'dist', 'cli', 'main.js'), 'serve', '--model', model.path, '--name', 'pneumonia-cxr',
      '--model-version', '3.0.0', '--sha256', model.sha256, '--labels', 'Normal,Pneumonia', '--host', '127.0.0.1', '--port', String(serverPort),
      '--preprocessing', JSON.stringify({ width: SMALL_CNN_SIZE, height: SMALL_CNN_SIZE, channels: 1, mean: [0.485], std: [0.229] })],
    { stdio: ['ignore', serverLog, serverLog] });
    process.on('exit', () => server?.kill('SIGKILL'));
    const url = `http://127.0.0.1:${serverPort}`;
    await until('inference server ready', async () => (await fetch(`${url}/health/ready`)).ok);
    const png = await sharp(Buffer.from(Array.from({ length: 64 * 64 }, (_, i) => (i * 7) % 256)), { raw: { width: 64, height: 64, channels: 1 } }).png().toBuffer();
    const prediction = await (await fetch(`${url}/v1/models/pneumonia-cxr/predict`, { method: 'POST', headers: { 'content-type': 'image/png' }, body: png })).json();
    console.log(`$ curl -s ${url}/v1/models/pneumonia-cxr/predict -H 'content-type: image/png' --data-binary @cxr.png\n${JSON.stringify(prediction, null, 2)}`);
    const window = await (await fetch(`${url}/v1/monitoring/window?after=0`)).json();
    console.log(`$ curl -s ${url}/v1/monitoring/window?after=0\n${JSON.stringify(window)}`);
    console.log(`   server logs and audit records (JSON lines): ${join(stateDir, 'demo-server.log')}`);

    await driftStory(cp, stateDir, sepsisUrl, (p) => { sepsisServer = p; });

    const kubeconfig = join(stateDir, 'demo-kubeconfig');
    copyFileSync(cp.kubeconfig, kubeconfig);
    console.log(`\n${bold('Done.')} The whole story ran on a real API server; every step left its trace in status and Events.`);
    if (process.stdin.isTTY) {
      console.log(`
The cluster stays up while this runs. In another terminal:
  export KUBECONFIG=${kubeconfig}
  kubectl get clm -A -w
  kubectl describe clm -n radiology pneumonia-cxr
  kubectl get clm -n icu sepsis-early-warning -o jsonpath='{.status.escalation}'
  kubectl get events -n radiology --sort-by=.lastTimestamp
  curl -s http://127.0.0.1:${port}/metrics | grep clinops_          # the operator
  curl -s ${url}/v2/models/pneumonia-cxr                              # the inference server (OIP v2)
Press Ctrl-C to stop everything.`);
      await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
    }
  } finally {
    await cleanup();
  }
}

const ICU = ['-n', 'icu'];
const SEPSIS = 'sepsis-early-warning';
const DEMO_KEY = 'sepsis-demo-key-change-me';

async function driftStory(cp: ControlPlane, stateDir: string, url: string, started: (p: ChildProcess) => void): Promise<void> {
  say('A second model, watched for drift', 'samples/sepsis-early-warning.yaml: a CPU model on tabular vitals and labs, its API-key Secret, and\n' +
    'its reference distribution (samples/sepsis-early-warning-reference.yaml, built with `clinops reference`).');
  const model = generateAll(join(stateDir, 'models'), false).mlp!;
  const keysFile = join(stateDir, 'demo-sepsis-keys.json');
  const secret = readFileSync(join(repoRoot, 'samples', 'sepsis-early-warning.yaml'), 'utf8');
  writeFileSync(keysFile, /keys\.json: \|\n\s+(.*)\n/.exec(secret)![1]!);
  const log = openSync(join(stateDir, 'demo-sepsis-server.log'), 'w');
  const server = spawn(process.execPath, [join(repoRoot, 'dist', 'cli', 'main.js'), 'serve', '--model', model.path, '--name', SEPSIS,
    '--model-version', '2.0.0', '--sha256', model.sha256, '--labels', 'No sepsis,Sepsis', '--api-keys', keysFile,
    '--host', '127.0.0.1', '--port', new URL(url).port], { stdio: ['ignore', log, log] });
  started(server);
  process.on('exit', () => server.kill('SIGKILL'));
  await until('sepsis server ready', async () => (await fetch(`${url}/health/ready`)).ok);
  await show(cp, ['apply', '-f', join(repoRoot, 'samples', 'sepsis-early-warning.yaml'), '-f', join(repoRoot, 'samples', 'sepsis-early-warning-reference.yaml'),
    '-f', join(repoRoot, 'samples', 'local', 'icu-models-volume.yaml')]);
  console.log('   For the demo, a check every 10 s and one breach enough to act (the sample says 5m and 2):');
  await show(cp, [...ICU, 'patch', 'clm', SEPSIS, '--type=merge', '-p', '{"spec":{"monitoring":{"interval":"10s"},"escalation":{"consecutiveBreaches":1}}}']);
  await until('sepsis Serving', async () => (await jsonOf(cp, [...ICU, 'get', 'clm', SEPSIS])).status?.phase === 'Serving');
  await show(cp, [...ICU, 'get', 'clm']);

  const send = async (xs: number[][]) => {
    for (let i = 0; i < xs.length; i += 25) {
      const res = await fetch(`${url}/v1/models/${SEPSIS}/predict`, {
        method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': DEMO_KEY }, body: JSON.stringify({ instances: xs.slice(i, i + 25) }),
      });
      if (!res.ok) throw new Error(`demo: predict answered ${res.status}: ${await res.text()}`);
    }
  };
  const status = async () => (await jsonOf(cp, [...ICU, 'get', 'clm', SEPSIS])).status ?? {};
  const checkedAfter = async (t: number) => {
    await until('a drift check with enough predictions', async () => {
      const d = (await status()).drift;
      return d?.lastCheckTime !== undefined && Date.parse(d.lastCheckTime) >= Math.floor(t / 1000) * 1000 && d.verdict !== 'InsufficientData';
    }, 60_000);
  };
  const driftLine = ['-o', 'jsonpath=verdict={.status.drift.verdict} psi={.status.drift.psi} ks.D={.status.drift.ks.statistic} ks.p={.status.drift.ks.pValue} samples={.status.drift.samples} level={.status.escalation.level} phase={.status.phase}{"\\n"}'];
  const warnings = async () => show(cp, [...ICU, 'get', 'events', '--field-selector', `involvedObject.name=${SEPSIS}`, '--sort-by=.lastTimestamp',
    '-o', 'custom-columns=TYPE:.type,REASON:.reason,MESSAGE:.message']);

  say('Traffic like the reference', '400 predictions from the holdout population (with the API key). The next check finds no drift.');
  const t = Date.now();
  await send(mlpInputs(202, 400));
  await checkedAfter(t);
  await show(cp, [...ICU, 'get', 'clm', SEPSIS, ...driftLine]);

  say('The population shifts a little', '400 predictions from sicker-looking inputs (features × 1.45): moderate drift → level 1, an alert with\n' +
    'a review due in 48 h. The model keeps serving.');
  await send(mlpInputs(303, 400, 1.45));
  await until('level 1', async () => (await status()).escalation?.level === 1, 60_000);
  await show(cp, [...ICU, 'get', 'clm', SEPSIS, ...driftLine]);
  await show(cp, [...ICU, 'get', 'clm', SEPSIS, '-o', 'jsonpath=since={.status.escalation.since} reviewDueBy={.status.escalation.reviewDueBy}{"\\n"}']);
  await warnings();

  say('The population shifts a lot', '400 predictions with features × 2: significant drift → level 2, Pause: the Deployment goes to 0 replicas.');
  await send(mlpInputs(404, 400, 2));
  await until('Paused', async () => (await status()).phase === 'Paused', 60_000);
  await until('0 replicas', async () => (await jsonOf(cp, [...ICU, 'get', 'deployment', SEPSIS])).spec?.replicas === 0);
  await show(cp, [...ICU, 'get', 'clm,deployment']);

  say('A named reviewer brings it back', 'Only a human acknowledgement lowers a level: it names the reviewer and the level reviewed.');
  await show(cp, [...ICU, 'patch', 'clm', SEPSIS, '--type=merge', '-p',
    '{"spec":{"escalation":{"acknowledgement":{"reviewer":"dr-lee","level":2,"note":"lab assay change confirmed; recalibration scheduled"}}}}']);
  await until('Serving again', async () => (await status()).phase === 'Serving', 60_000);
  await show(cp, [...ICU, 'get', 'clm,deployment']);

  say('A patient-safety event', 'Reported with an annotation; level 3 at once: Shutdown, an incident record, and leaving level 3 will need a new model version.');
  await show(cp, [...ICU, 'annotate', 'clm', SEPSIS, 'clinops.dev/safety-event=INC-2041: sepsis alert missed in a deteriorating patient']);
  await until('ShutDown', async () => (await status()).phase === 'ShutDown', 30_000);
  await show(cp, [...ICU, 'get', 'clm', SEPSIS, '-o', 'jsonpath={.status.escalation.incident}{"\\n"}']);
  await show(cp, [...ICU, 'get', 'clm', SEPSIS, '-o', 'jsonpath={range .status.escalation.history[*]}{.time}  {.from} → {.to}  {.reason}{"\\n"}{end}']);
  await warnings();
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
