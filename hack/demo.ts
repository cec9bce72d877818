// `make demo`: the local story, narrated, on a real control plane with KWOK's fake GPU nodes and one
// real node (containerd, kubelet, kube-proxy) running our own images. Helm installs the operator image,
// which runs in pods and leads; a GPU model goes from YAML to pods scheduled on the GPU nodes; a sepsis
// model is served for real by pods the operator created, and watched for drift through its Service:
// reference traffic → no drift; one lab value shifted (lactate, a new assay) → level 1 (an alert that
// names lactate, while the confidences hardly move); the whole population shifted → level 2 (pause:
// the pods stop); a reviewer's acknowledgement → pods back and serving; a worse version proposed →
// rejected by its acceptance Job while the accepted version keeps serving; a better one rolled out in
// shadow, then as a canary, then promoted; a patient-safety event →
// level 3 (shut down, incident). With a terminal attached, the cluster stays up afterwards for you to
// look around (Ctrl-C stops it). Needs root, as the real node does.
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot, startControlPlane, type ControlPlane } from './cluster/controlplane.js';
import { helm, helmInstall } from './cluster/helm.js';
import { assertLocalRoute, canManageNetwork, clusterFetch, NODE_NAME, routeDevice } from './cluster/network.js';
import { until } from './cluster/wait.js';
import { sepsisHoldout, sepsisTraffic, sepsisWeights } from '../test/models/drift-traffic.js';
import { writeReport } from '../cli/report.js';
import { mlpGraph, mlpInputs, mlpWeights, writeModel } from '../test/models/generate.js';
import { parseAllDocuments } from 'yaml';

const bold = (s: string) => (process.stdout.isTTY ? `\x1b[1m${s}\x1b[0m` : s);
let step = 0;
function say(title: string, text = ''): void {
  step += 1;
  console.log(`\n${bold(`${step}. ${title}`)}${text ? `\n${text}` : ''}`);
}

async function show(cp: ControlPlane, args: string[], input?: string): Promise<string> {
  const out = await cp.kubectl(args, input);
  console.log(`$ kubectl ${args.join(' ')}\n${out.trimEnd()}`);
  return out;
}

async function jsonOf(cp: ControlPlane, args: string[]): Promise<any> { // eslint-disable-line @typescript-eslint/no-explicit-any
  return JSON.parse(await cp.kubectl([...args, '-o', 'json']));
}

async function main(): Promise<void> {
  if (!canManageNetwork()) throw new Error('make demo runs a real node (containerd, kubelet, kube-proxy) and needs root');
  const stateDir = join(repoRoot, '.clinops');
  mkdirSync(stateDir, { recursive: true });
  say('Starting a local cluster', 'etcd, kube-apiserver, kube-controller-manager, kube-scheduler and KWOK (fake GPU nodes), and a real node:\n' +
    'containerd + runc, kubelet and kube-proxy, with the images built from Dockerfile.server and Dockerfile.operator imported.');
  const cp = await startControlPlane({ realNode: true, cpuNodes: 0, log: (l) => console.log(`   ${l}`) });
  try {
    await show(cp, ['get', 'nodes', '-o', 'wide', '-L', 'nvidia.com/gpu.product']);

    say('Installing clinops with Helm', '`helm install clinops charts/clinops -n clinops-system` into a namespace that enforces Pod Security\n' +
      '"restricted": the CRD, the operator Deployment (2 replicas, leader election), its ServiceAccount and least-privilege RBAC.\n' +
      'The operator pods run on the real node, from the image built from Dockerfile.operator.');
    await helmInstall(cp, { args: ['--wait', '--timeout=5m'] });
    console.log(`$ helm list -n clinops-system\n${(await helm(cp, ['list', '-n', 'clinops-system'])).trimEnd()}`);
    await show(cp, ['-n', 'clinops-system', 'get', 'pods', '-o', 'wide']);
    await show(cp, ['-n', 'clinops-system', 'get', 'lease', 'clinops', '-o', 'custom-columns=LEASE:.metadata.name,LEADER:.spec.holderIdentity']);

    say('Applying a GPU ClinicalModel', 'samples/pneumonia-cxr.yaml: a chest X-ray classifier, 2 replicas, one H100 each, with its API-key Secret\n' +
      'and reference distribution; samples/local/ adds the volume the local cluster needs. The GPU nodes are KWOK\'s:\n' +
      'this part shows scheduling (what the API server believes), not serving.');
    await show(cp, ['apply', '-f', join(repoRoot, 'samples', 'pneumonia-cxr.yaml'), '-f', join(repoRoot, 'samples', 'pneumonia-cxr-reference.yaml'),
      '-f', join(repoRoot, 'samples', 'local', 'models-volume.yaml')]);
    await until('pneumonia-cxr pods scheduled', async () => (await jsonOf(cp, ['-n', 'radiology', 'get', 'clm', 'pneumonia-cxr'])).status?.readyReplicas === 2);
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
        serving: { replicas: 1, allowUnauthenticated: true, gpu: { count: 16 } },
      },
    }));
    await until('Unschedulable', async () => {
      const c = await jsonOf(cp, ['-n', 'radiology', 'get', 'clm', 'too-big']);
      return c.status?.conditions?.some((x: { reason: string }) => x.reason === 'Unschedulable');
    });
    await show(cp, ['-n', 'radiology', 'get', 'clm', 'too-big', '-o',
      'jsonpath={range .status.conditions[*]}{.type}={.status} ({.reason}): {.message}{"\\n"}{end}']);

    say('Rejecting a bad resource at the API server', 'A sha256 that is not 64 hex characters and a negative replica count never reach\n' +
      'the operator: the API server names both mistakes in one answer.');
    try {
      await cp.kubectl(['apply', '-f', '-'], JSON.stringify({
        apiVersion: 'clinops.dev/v1alpha1', kind: 'ClinicalModel', metadata: { name: 'bad', namespace: 'radiology' },
        spec: { model: { uri: 'pvc://models/x.onnx', sha256: 'abc', version: '1', labels: ['a'] }, serving: { replicas: -1 } },
      }));
    } catch (err) {
      console.log(`   ${((err as { stderr?: string }).stderr ?? '').trim()}`);
    }

    say('Deleting', 'The Deployment and Service are owned by the ClinicalModel; the garbage collector removes them.');
    await show(cp, ['-n', 'radiology', 'delete', 'clm', 'too-big']);
    // The garbage collector learns a CRD installed after it started at its next discovery (within 30 s).
    await until('too-big children gone', async () => (await jsonOf(cp, ['-n', 'radiology', 'get', 'deployments'])).items.length === 1, 90_000);
    await show(cp, ['-n', 'radiology', 'get', 'deployments']);

    await driftStory(cp);

    say('The report for the clinical team', '`clinops report`: drift per signal over time, the escalation timeline with its incident and who\n' +
      'acknowledged, the go/no-go history with its signers, the model card — one HTML file, no external URL, prints to PDF.');
    const report = join(stateDir, `${SEPSIS}-report.html`);
    console.log(`$ clinops report --model ${SEPSIS} -n icu --since 1h --out ${report}`);
    await writeReport({ model: SEPSIS, namespace: 'icu', since: '1h', out: report, kubeconfig: cp.kubeconfig });
    console.log(`report written: ${report}`);

    const kubeconfig = join(stateDir, 'demo-kubeconfig');
    copyFileSync(cp.kubeconfig, kubeconfig);
    console.log(`\n${bold('Done.')} Every prediction above was served by pods the operator created; every step left its trace in status and Events.`);
    if (process.stdin.isTTY) {
      console.log(`
The cluster stays up while this runs. In another terminal:
  export KUBECONFIG=${kubeconfig} PATH=${join(repoRoot, 'bin')}:$PATH
  kubectl get nodes -o wide
  kubectl get clm -A -w
  kubectl describe clm -n radiology pneumonia-cxr
  kubectl get clm -n icu sepsis-early-warning -o jsonpath='{.status.escalation}'
  kubectl logs -n clinops-system deploy/clinops-operator
Press Ctrl-C to stop everything.`);
      await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
    }
  } finally {
    await cp.stop();
  }
}

const ICU = ['-n', 'icu'];
// People, as the admin impersonates them (their RBAC from system:masters; the chart's admission policies
// judge them by name and by the groups the chart names: clinical-signers, clinical-reviewers).
const ML_ENGINEER = ['--as=ml-engineer', '--as-group=system:masters'];
const DR_LEE = ['--as=dr-lee', '--as-group=clinical-reviewers', '--as-group=clinical-signers', '--as-group=system:masters'];
const DR_OKAFOR = ['--as=dr-okafor', '--as-group=clinical-signers', '--as-group=system:masters'];
const CHECKLIST = ['performance-validation', 'infrastructure', 'monitoring', 'governance', 'compliance', 'go-no-go'];
const SEPSIS = 'sepsis-early-warning';
const DEMO_KEY = 'sepsis-demo-key-change-me';
/** The inference pods (not the acceptance Jobs' pods, which stay Completed with their report in their log). */
const SERVER_PODS = 'app.kubernetes.io/name=clinops-model';

async function driftStory(cp: ControlPlane): Promise<void> {
  say('A CPU model served for real', 'samples/sepsis-early-warning.yaml: a sepsis model on tabular vitals and labs, its API-key Secret and its\n' +
    'reference distribution (built with `clinops reference`). Its model file goes on a hostPath volume pinned to the real node;\n' +
    'the operator\'s Deployment runs `clinops serve` from the server image, which verifies the sha256 before it turns ready.');
  // The file behind the volume: readable by the image's user 65532 (hostPath ignores fsGroup).
  chmodSync(cp.dir, 0o711);
  const models = join(cp.dir, 'models');
  const model = writeModel(join(models, 'sepsis', '2'), 'model.onnx', mlpGraph(sepsisWeights));
  execFileSync('chmod', ['-R', 'a+rX', models]);
  // The volume first (in the sample's namespace), so the pods never wait for their claim.
  await show(cp, ['apply', '-f', '-'], JSON.stringify({
    apiVersion: 'v1', kind: 'List', items: [
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'icu', labels: { 'pod-security.kubernetes.io/enforce': 'restricted' } } },
      {
        apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name: 'icu-models' },
        spec: {
          capacity: { storage: '1Gi' }, accessModes: ['ReadOnlyMany'], storageClassName: '', hostPath: { path: models, type: 'Directory' },
          nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [NODE_NAME] }] }] } },
          claimRef: { namespace: 'icu', name: 'models' },
        },
      },
      {
        apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'models', namespace: 'icu' },
        spec: { accessModes: ['ReadOnlyMany'], storageClassName: '', volumeName: 'icu-models', resources: { requests: { storage: '1Gi' } } },
      },
    ],
  }));
  // Clinical acceptance: a labelled holdout of 1,000 patients (diagnoses drawn from the model's own
  // probabilities: synthetic, and calibrated by construction), judged at the protocol's own thresholds.
  const holdout = join(cp.dir, 'sepsis-holdout.json');
  writeFileSync(holdout, JSON.stringify(sepsisHoldout(900, 1000)));
  const worseWeights = mlpWeights(8, 16, 2, 999);
  await cp.kubectl([...ICU, 'create', 'configmap', 'sepsis-holdout', `--from-file=holdout.json=${holdout}`]);
  const docs = parseAllDocuments(readFileSync(join(repoRoot, 'samples', 'sepsis-early-warning.yaml'), 'utf8')).map((d) => d.toJS() as { kind: string; spec?: Record<string, unknown> });
  for (const d of docs) {
    if (d.kind !== 'ClinicalModel') continue;
    d.spec!.acceptance = { holdout: { configMapRef: { name: 'sepsis-holdout' } } };
    d.spec!.approval = { signatures: [] };
    (d.spec!.model as Record<string, unknown>).submittedBy = 'ml-engineer';
  }
  console.log(`$ kubectl --as=ml-engineer apply -f samples/sepsis-early-warning.yaml -f samples/sepsis-early-warning-reference.yaml   # + spec.acceptance and spec.approval:
   {"acceptance": {"holdout": {"configMapRef": {"name": "sepsis-holdout"}}}, "approval": {"signatures": []}, "model": {"submittedBy": "ml-engineer", …}}
   (a holdout of 1,000 labelled patients made here; the protocol's thresholds, the defaults: AUROC ≥ 0.85, sensitivity ≥ 0.90,
   ECE < 0.05; the protocol's six-item go/no-go checklist, its decision signed by two different people, neither only the submitter)`);
  await cp.kubectl([...ML_ENGINEER, 'apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: docs }));
  await cp.kubectl(['apply', '-f', join(repoRoot, 'samples', 'sepsis-early-warning-reference.yaml')]);
  console.log(`   model.onnx sha256 ${model.sha256} (the sample declares the same)`);
  console.log('   Nothing serves before the version passed acceptance: a Job from the server image runs `clinops accept` on the holdout.');
  await until('passed acceptance', async () => (await jsonOf(cp, [...ICU, 'get', 'clm', SEPSIS])).status?.acceptance?.candidate?.state === 'Passed', 180_000);
  const job = (await jsonOf(cp, [...ICU, 'get', 'clm', SEPSIS])).status.acceptance.candidate.job as string;
  console.log(`   The Job's log is the full report: kubectl -n icu logs job/${job}`);
  await show(cp, [...ICU, 'get', 'clm', SEPSIS, '-o', 'jsonpath=candidate {.status.acceptance.candidate.version}: {.status.acceptance.candidate.state} on {.status.acceptance.candidate.cases} cases {.status.acceptance.candidate.metrics}{"\\n"}']);
  await signOff(cp, model.sha256, '2.0.0');
  console.log('   For the demo, a check every 10 s, one breach enough to act and a review every 45 s (the sample says 5m, 2 and 90d):');
  await show(cp, [...ICU, 'patch', 'clm', SEPSIS, '--type=merge', '-p',
    '{"spec":{"monitoring":{"interval":"10s"},"escalation":{"consecutiveBreaches":1},"governance":{"reviewEvery":"45s"}}}']);
  await until('sepsis Serving', async () => (await jsonOf(cp, [...ICU, 'get', 'clm', SEPSIS])).status?.phase === 'Serving', 180_000);
  await show(cp, [...ICU, 'get', 'clm']);
  await show(cp, [...ICU, 'get', 'pods', '-o', 'wide']);
  const ip = (await jsonOf(cp, [...ICU, 'get', 'service', SEPSIS])).spec.clusterIP as string;
  const url = `http://${ip}:8080`;
  await assertLocalRoute(ip);
  console.log(`   The Service's ClusterIP ${ip} routes through ${await routeDevice(ip)} until kube-proxy rewrites it to a pod: no packet leaves this machine.`);
  const one = await clusterFetch(`${url}/v1/models/${SEPSIS}/predict`, {
    method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': DEMO_KEY }, body: JSON.stringify({ instances: mlpInputs(1, 1) }),
  });
  console.log(`$ curl -s ${url}/v1/models/${SEPSIS}/predict -H 'x-api-key: …' -d '{"instances": [[…8 values…]]}'\n${JSON.stringify(await one.json(), null, 2)}`);

  const send = async (xs: number[][]) => {
    for (let i = 0; i < xs.length; i += 25) {
      const res = await clusterFetch(`${url}/v1/models/${SEPSIS}/predict`, {
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
  const driftLine = ['-o', 'jsonpath=verdict={.status.drift.verdict} confidence: psi={.status.drift.psi} ks.D={.status.drift.ks.statistic} ks.p={.status.drift.ks.pValue} samples={.status.drift.samples} features={.status.drift.features} level={.status.escalation.level} phase={.status.phase}{"\\n"}'];
  const warnings = async () => show(cp, [...ICU, 'get', 'events', '--field-selector', `involvedObject.name=${SEPSIS}`, '--sort-by=.lastTimestamp',
    '-o', 'custom-columns=TYPE:.type,REASON:.reason,MESSAGE:.message']);

  say('Traffic like the reference', '400 predictions from the holdout population (with the API key). The next check finds no drift.');
  const t = Date.now();
  await send(sepsisTraffic.clean);
  await checkedAfter(t);
  await show(cp, [...ICU, 'get', 'clm', SEPSIS, ...driftLine]);
  console.log('   No label has arrived (sepsis is confirmed days later), yet each check estimates performance from the model\'s\n' +
    '   calibration on its holdout (CBPE; it assumes no concept shift), against the baseline it was accepted at:');
  await show(cp, [...ICU, 'get', 'clm', SEPSIS, '-o', 'jsonpath=estimated ({.status.drift.performance.estimated.method}, {.status.drift.performance.estimated.cases} cases): ' +
    'AUROC {.status.drift.performance.estimated.auroc.value} [{.status.drift.performance.estimated.auroc.low}, {.status.drift.performance.estimated.auroc.high}], ' +
    'sensitivity {.status.drift.performance.estimated.sensitivity.value} [{.status.drift.performance.estimated.sensitivity.low}, {.status.drift.performance.estimated.sensitivity.high}]{"\\n"}']);

  say('The lab changes its lactate assay', '400 predictions in which lactate reads higher for a quarter of the patients; every other input as\n' +
    'before, and the model\'s confidences hardly move. The pods count each input\'s bins (never the values); the check tests all eight\n' +
    'features, Benjamini–Hochberg across them: moderate drift in lactate alone → level 1, an alert with a review due in 48 h.');
  await send(sepsisTraffic.lactate);
  await until('level 1', async () => (await status()).escalation?.level === 1, 60_000);
  await show(cp, [...ICU, 'get', 'clm', SEPSIS, ...driftLine]);
  await show(cp, [...ICU, 'get', 'clm', SEPSIS, '-o', 'jsonpath={range .status.drift.signals[*]}drifted: {.name} ({.kind}) PSI {.psi}, KS D ≥ {.statistic}, p {.pValue} (adjusted){"\\n"}{end}']);
  await show(cp, [...ICU, 'get', 'clm', SEPSIS, '-o', 'jsonpath=since={.status.escalation.since} reviewDueBy={.status.escalation.reviewDueBy}{"\\n"}']);
  await warnings();

  say('The population shifts a lot', '400 predictions with features × 2: significant drift → level 2, Pause: the Deployment goes to\n' +
    '0 replicas and the server pods stop (each finishes what it accepted first).');
  await send(sepsisTraffic.strong);
  await until('Paused', async () => (await status()).phase === 'Paused', 60_000);
  await until('0 replicas', async () => (await jsonOf(cp, [...ICU, 'get', 'deployment', SEPSIS])).spec?.replicas === 0);
  await show(cp, [...ICU, 'get', 'clm']);
  await show(cp, [...ICU, 'get', 'deployment,pods', '-l', `${SERVER_PODS},app.kubernetes.io/instance=${SEPSIS}`]);
  await until('the pods gone', async () => (await jsonOf(cp, [...ICU, 'get', 'pods', '-l', SERVER_PODS])).items.length === 0, 90_000);
  await show(cp, [...ICU, 'get', 'pods', '-l', SERVER_PODS]);
  const refused = await clusterFetch(`${url}/health/live`, { signal: AbortSignal.timeout(3000) }).then(() => 'answered', (e: Error) => `no answer (${e.message})`);
  console.log(`$ curl -s ${url}/health/live\n   ${refused}: no process serves the model any more.`);

  say('A review falls overdue', 'The model declares a review every 45 s here (90d in the sample): nobody has reviewed it, so the\n' +
    'ReviewOverdue condition is True, with a Warning Event and clinops_review_overdue 1 (the chart\'s alert rule fires on it).');
  await until('ReviewOverdue', async () => (await status()).conditions?.some((c: { type: string; status: string }) => c.type === 'ReviewOverdue' && c.status === 'True'), 60_000);
  await show(cp, [...ICU, 'get', 'clm', SEPSIS, '-o', 'jsonpath={range .status.conditions[?(@.type=="ReviewOverdue")]}{.type}={.status} {.reason}: {.message}{"\\n"}{end}']);
  console.log('   dr-lee records a review, as herself (the admission policy checks the reviewer named is the user writing it):');
  await show(cp, [...DR_LEE, ...ICU, 'patch', 'clm', SEPSIS, '--type=merge', '-p',
    '{"spec":{"governance":{"review":{"reviewer":"dr-lee","note":"drift report and incident reviewed"}}}}']);
  await until('review current', async () => (await status()).review?.reviewedBy === 'dr-lee', 30_000);
  await show(cp, [...ICU, 'get', 'clm', SEPSIS, '-o', 'jsonpath=review: last {.status.review.lastReviewedAt} by {.status.review.reviewedBy}, next due by {.status.review.dueBy}{"\\n"}']);

  say('A named reviewer brings it back', 'Only a human acknowledgement lowers a level: it names the reviewer and the level reviewed, and\n' +
    'the chart\'s ValidatingAdmissionPolicy makes the API server check that the reviewer named is the user writing it, and that\n' +
    'level 2 is acknowledged by a clinical reviewer. The cluster admin tries in dr-lee\'s name and is refused; dr-lee (here\n' +
    'impersonated by the admin) acknowledges.');
  const acknowledge = [...ICU, 'patch', 'clm', SEPSIS, '--type=merge', '-p',
    '{"spec":{"escalation":{"acknowledgement":{"reviewer":"dr-lee","level":2,"note":"lab assay change confirmed; recalibration scheduled"}}}}'];
  const refusedAck = await cp.kubectl(acknowledge).then(() => 'accepted', (e: { stderr?: string }) => (e.stderr ?? String(e)).trim());
  console.log(`$ kubectl ${acknowledge.join(' ')}\n${refusedAck}`);
  await show(cp, [...DR_LEE, ...acknowledge]);
  await until('Serving again', async () => (await status()).phase === 'Serving', 180_000);
  await show(cp, [...ICU, 'get', 'clm']);
  await show(cp, [...ICU, 'get', 'deployment,pods', '-l', `${SERVER_PODS},app.kubernetes.io/instance=${SEPSIS}`]);
  await send(mlpInputs(505, 25));
  console.log('   New pods, the same model, serving again through the Service.');

  say('A worse version is proposed', 'Version 3.0.0 (other weights) is applied. Its acceptance Job fails it on the holdout; the Deployment\n' +
    'keeps serving the accepted version, and kubectl says why.');
  const worse = writeModel(join(models, 'sepsis', '3'), 'model.onnx', mlpGraph(worseWeights));
  execFileSync('chmod', ['-R', 'a+rX', models]);
  await show(cp, [...ML_ENGINEER, ...ICU, 'patch', 'clm', SEPSIS, '--type=merge', '-p',
    JSON.stringify({ spec: { model: { uri: 'pvc://models/sepsis/3/model.onnx', sha256: worse.sha256, version: '3.0.0', submittedBy: 'ml-engineer' } } })]);
  await until('rejected', async () => (await status()).acceptance?.candidate?.state === 'Failed', 180_000);
  await show(cp, [...ICU, 'get', 'clm', SEPSIS, '-o', 'wide']);
  await show(cp, [...ICU, 'get', 'clm', SEPSIS, '-o', 'jsonpath={range .status.conditions[?(@.type=="Accepted")]}{.type}={.status} {.reason}: {.message}{"\\n"}{end}']);
  await send(mlpInputs(606, 25));
  console.log('   Predictions through the Service are still answered, by the accepted version.');

  say('A better version rolls out: shadow, canary, promotion', 'Version 2.1.0 (the same network, retrained: weights nudged) is applied\n' +
    'with spec.rollout. It passes its acceptance Job and is signed off; then it runs in shadow beside 2.0.0 — the serving pod copies each\n' +
    'prediction to it after answering and compares — then as a canary behind the same Service for 20 s, then it is promoted.');
  const better = writeModel(join(models, 'sepsis', '2.1'), 'model.onnx', mlpGraph({ ...sepsisWeights, w1: sepsisWeights.w1.map((v) => v + 1e-4) }));
  execFileSync('chmod', ['-R', 'a+rX', models]);
  await show(cp, [...ML_ENGINEER, ...ICU, 'patch', 'clm', SEPSIS, '--type=merge', '-p', JSON.stringify({ spec: {
    model: { uri: 'pvc://models/sepsis/2.1/model.onnx', sha256: better.sha256, version: '2.1.0', submittedBy: 'ml-engineer' },
    rollout: { shadow: { requests: 100 }, canary: { replicas: 1, duration: '20s' } },
  } })]);
  await until('2.1.0 passed acceptance', async () => (await status()).acceptance?.candidate?.state === 'Passed', 180_000);
  await signOff(cp, better.sha256, '2.1.0');
  await until('in shadow', async () => (await status()).rollout?.step === 'Shadow', 180_000);
  await until('the candidate pod ready', async () => (await jsonOf(cp, [...ICU, 'get', 'pods', '-l', `clinops.dev/candidate-of=${SEPSIS}`])).items
    .some((p: { status?: { conditions?: Array<{ type: string; status: string }> } }) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')), 120_000);
  await show(cp, [...ICU, 'get', 'pods', '-l', SERVER_PODS, '-L', 'clinops.dev/candidate-of,app.kubernetes.io/version']);
  console.log('   400 predictions from the reference population through the Service; 2.0.0 answers them, 2.1.0 sees copies.');
  await send(sepsisTraffic.clean);
  await until('the canary', async () => ['Canary', 'Promoting', 'Promoted'].includes((await status()).rollout?.step), 120_000);
  await show(cp, [...ICU, 'get', 'clm', SEPSIS, '-o', 'jsonpath=shadow: {.status.rollout.shadow}{"\\n"}']);
  await until('promoted', async () => (await status()).rollout?.step === 'Promoted', 180_000);
  await show(cp, [...ICU, 'get', 'clm', SEPSIS, '-o', 'wide']);
  const story = (await jsonOf(cp, [...ICU, 'get', 'events', '--field-selector', `involvedObject.name=${SEPSIS}`, '--sort-by=.lastTimestamp'])).items
    .filter((e: { reason: string }) => ['RolloutStarted', 'ShadowPassed', 'Promoting', 'Promoted', 'RolledBack'].includes(e.reason));
  console.log(`$ kubectl -n icu describe clm ${SEPSIS}   # its Events, the rollout's story:`);
  for (const e of story) console.log(`   ${e.reason.padEnd(15)} ${e.message}`);

  say('A patient-safety event', 'Reported with an annotation; level 3 at once: Shutdown, an incident record, and leaving level 3 will need a new model version.');
  await show(cp, [...ICU, 'annotate', 'clm', SEPSIS, 'clinops.dev/safety-event=INC-2041: sepsis alert missed in a deteriorating patient']);
  await until('ShutDown', async () => (await status()).phase === 'ShutDown', 60_000);
  await show(cp, [...ICU, 'get', 'clm', SEPSIS, '-o', 'jsonpath={.status.escalation.incident}{"\\n"}']);
  await show(cp, [...ICU, 'get', 'clm', SEPSIS, '-o', 'jsonpath={range .status.escalation.history[*]}{.time}  {.from} → {.to}  {.reason}{"\\n"}{end}']);
  await warnings();

  say('The shut-down version is revoked', 'Its sha256 is now a RevokedVersion in the namespace, written by the operator alone: no ClinicalModel\n' +
    'of any name may declare it (the API server refuses it) until a governance administrator lifts it with a reason.');
  await until('revoked', async () => (await cp.kubectl([...ICU, 'get', 'revokedversions', '-o', 'name'])).trim() !== '', 30_000);
  await show(cp, [...ICU, 'get', 'revokedversions', '-o', 'wide']);
  const again = { apiVersion: 'clinops.dev/v1alpha1', kind: 'ClinicalModel', metadata: { name: 'sepsis-copy', namespace: 'icu' },
    spec: { model: { uri: 'pvc://models/sepsis/2.1/model.onnx', sha256: better.sha256, version: '2.1.0', labels: ['No sepsis', 'Sepsis'] },
      serving: { apiKeySecretRef: { name: 'sepsis-api-keys' } } } };
  const copied = await cp.kubectl([...ML_ENGINEER, 'apply', '-f', '-'], JSON.stringify(again)).then(() => 'accepted', (e: { stderr?: string }) => (e.stderr ?? String(e)).trim());
  console.log(`$ kubectl --as=ml-engineer apply -f sepsis-copy.yaml   # the same version under another name\n${copied}`);
}

/**
 * The go/no-go sign-off of a version that passed acceptance: dr-lee signs the protocol's six items, and the
 * model waits (the decision needs two people); dr-okafor signs go-no-go too, and it serves. Each signs as
 * themselves (the admission policy checks the name and the signer group); a signature is appended, so those
 * already there are carried along.
 */
async function signOff(cp: ControlPlane, sha256: string, version: string): Promise<void> {
  say(`Version ${version} is signed off`, 'It passed acceptance; now the go/no-go checklist (the protocol\'s six items). dr-lee signs every item;\n' +
    'the decision item needs two different people, so it still waits. dr-okafor signs the decision too, and it is approved.');
  const sign = (who: string[], items: string[]) => JSON.stringify(items.map((item) => ({ op: 'add', path: '/spec/approval/signatures/-',
    value: { item, signedBy: who[0]!.slice('--as='.length), sha256, note: `reviewed for ${version}` } })));
  await show(cp, [...DR_LEE, ...ICU, 'patch', 'clm', SEPSIS, '--type=json', '-p', sign(DR_LEE, CHECKLIST)]);
  await until('dr-lee\'s signatures seen', async () => (await jsonOf(cp, [...ICU, 'get', 'clm', SEPSIS])).status?.approval?.signatures
    ?.filter((x: { sha256: string }) => x.sha256 === sha256).length === CHECKLIST.length, 30_000);
  await show(cp, [...ICU, 'get', 'clm', SEPSIS, '-o', 'jsonpath={range .status.conditions[?(@.type=="Approved")]}{.type}={.status} {.reason}: {.message}{"\\n"}{end}']);
  await show(cp, [...DR_OKAFOR, ...ICU, 'patch', 'clm', SEPSIS, '--type=json', '-p', sign(DR_OKAFOR, ['go-no-go'])]);
  await until(`${version} approved`, async () => (await jsonOf(cp, [...ICU, 'get', 'clm', SEPSIS])).status?.approval?.approvedAt !== undefined &&
    (await jsonOf(cp, [...ICU, 'get', 'clm', SEPSIS])).status?.approval?.sha256 === sha256, 30_000);
  await show(cp, [...ICU, 'get', 'clm', SEPSIS, '-o', 'jsonpath={range .status.conditions[?(@.type=="Approved")]}{.type}={.status} {.reason}: {.message}{"\\n"}{end}']);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
