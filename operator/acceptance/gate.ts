// The gates before serving (pure): the Job that accepts a candidate, what that Job's pod said, and the
// go/no-go sign-off recorded (which version serves, and what a version lacks: serving/versions.ts). Every new spec.model.sha256 is a candidate; it serves
// only once a Job from the server image has run `clinops accept` on the spec's labelled holdout and
// passed (spec.acceptance), and every checklist item is signed for its sha256 by a named person
// (spec.approval). Until then (or when it fails) the version that passed before keeps serving, and a
// model with none serves nothing.
// The Job has no access to the API: its verdict comes back in its container's termination message.
import type { AcceptanceResult, AcceptanceStatus, ApprovalStatus, ClinicalModel, OwnerReference } from '../api/types.js';
import { CONTAINER_SECURITY, fetchModelInit, MODEL_MOUNT, modelVolume, POD_SECURITY } from '../desired/deployment.js';
import { ownerReference } from '../desired/meta.js';
import { objectLabels } from '../desired/labels.js';
import { approvalRequired, inRollout, missingItems, servable, servedModel } from '../serving/versions.js';

export const ACCEPTANCE_LABEL = 'clinops.dev/acceptance-of';
const HOLDOUT_MOUNT = '/etc/clinops/holdout';
/** A Job that has not finished in this long is stopped, and the candidate is in Error. */
export const ACCEPTANCE_DEADLINE_S = 900;
const HISTORY = 10;

/**
 * status.acceptance.accepted and status.approval after this pass: the declared version becomes the
 * accepted one once servable; each signature for it is recorded with when it was first seen, and a
 * completed sign-off is kept among the records.
 */
export function settleGates(cr: ClinicalModel, now: string): ClinicalModel {
  const m = cr.spec.model;
  const sha = m.sha256.toLowerCase();
  let status = cr.status ?? {};
  if (approvalRequired(cr)) {
    const prev = status.approval?.sha256 === sha ? status.approval : undefined;
    const seen = (x: { item: string; signedBy: string }) => prev?.signatures?.find((p) => p.item === x.item && p.signedBy === x.signedBy)?.seenAt ?? now;
    const signatures = (cr.spec.approval?.signatures ?? []).filter((x) => x.sha256.toLowerCase() === sha).map((x) => ({ ...x, seenAt: seen(x) }));
    const missing = missingItems(cr);
    const approval: ApprovalStatus = { ...status.approval, sha256: sha, missing, signatures, ...(m.submittedBy ? { submittedBy: m.submittedBy } : {}) };
    if (!m.submittedBy) delete approval.submittedBy;
    delete approval.approvedAt;
    if (missing.length === 0) {
      approval.approvedAt = prev?.approvedAt ?? now;
      if (!prev?.approvedAt) approval.records = [...(status.approval?.records ?? []), { sha256: sha, version: m.version, approvedAt: now, signatures }].slice(-HISTORY);
    }
    status = { ...status, approval };
  }
  if (servable({ ...cr, status }) && status.acceptance?.accepted?.sha256 !== sha && !inRollout({ ...cr, status })) {
    status = { ...status, acceptance: { ...status.acceptance, accepted: { sha256: sha, version: m.version, uri: m.uri, acceptedAt: now } } };
  }
  return { ...cr, status };
}

/** The ClinicalModel as the Deployment should serve it: the served version, or no replicas. */
export function asServed(cr: ClinicalModel): ClinicalModel {
  const served = servedModel(cr);
  if (!served) return { ...cr, spec: { ...cr.spec, serving: { ...cr.spec.serving, replicas: 0 } } };
  if (served.sha256 === cr.spec.model.sha256.toLowerCase()) return cr;
  return { ...cr, spec: { ...cr.spec, model: { ...cr.spec.model, ...served } } };
}

/**
 * The start of the acceptance Job's name; the API server adds a random end (generateName), so nobody can
 * make the Job before the operator does. The Job is then known by the uid recorded in status.
 */
export function acceptanceJobPrefix(cr: ClinicalModel): string {
  return `${cr.metadata.name.slice(0, 40)}-accept-${cr.spec.model.sha256.toLowerCase().slice(0, 10)}-`;
}

/** The Job that runs `clinops accept` on the candidate: the model from the same volume, the holdout mounted. */
export function acceptanceJob(cr: ClinicalModel, image: string): object {
  const { model, serving = {} } = cr.spec;
  const acc = cr.spec.acceptance!;
  const namespace = cr.metadata.namespace ?? 'default';
  const { path: modelPath, volume: modelVol } = modelVolume(model.uri);
  const holdoutPath = acc.holdout.path ? `${MODEL_MOUNT}/${acc.holdout.path}` : `${HOLDOUT_MOUNT}/holdout.json`;
  const flag = (f: string, v: number | undefined) => (v === undefined ? [] : [f, String(v)]);
  const args = [
    'accept', '--model', modelPath, '--sha256', model.sha256.toLowerCase(), '--holdout', holdoutPath, '--labels', JSON.stringify(model.labels),
    ...(acc.positiveLabel ? ['--positive', acc.positiveLabel] : []),
    ...flag('--min-auroc', acc.minAuroc), ...flag('--min-sensitivity', acc.minSensitivity), ...flag('--min-specificity', acc.minSpecificity),
    ...flag('--max-ece', acc.maxEce), ...flag('--ece-bins', acc.eceBins), ...flag('--subgroup-min-auroc', acc.subgroupMinAuroc),
    ...flag('--subgroup-min-sensitivity', acc.subgroupMinSensitivity), ...flag('--min-subgroup-size', acc.minSubgroupSize),
    ...(acc.lowerBound ? ['--lower-bound'] : []),
    '--summary-file', '/dev/termination-log',
  ];
  const security = CONTAINER_SECURITY;
  const volumes: object[] = [modelVol, { name: 'tmp', emptyDir: {} }];
  const mounts: object[] = [{ name: 'model', mountPath: MODEL_MOUNT, readOnly: true }, { name: 'tmp', mountPath: '/tmp' }];
  if (acc.holdout.configMapRef) {
    const ref = acc.holdout.configMapRef;
    volumes.push({ name: 'holdout', configMap: { name: ref.name, items: [{ key: ref.key ?? 'holdout.json', path: 'holdout.json' }] } });
    mounts.push({ name: 'holdout', mountPath: HOLDOUT_MOUNT, readOnly: true });
  }
  const pullPolicy = serving.imagePullPolicy ?? 'IfNotPresent';
  const fetching = fetchModelInit(cr, image, pullPolicy, security);
  volumes.push(...fetching.volumes);
  const owner: OwnerReference = ownerReference(cr);
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      generateName: acceptanceJobPrefix(cr), namespace, ownerReferences: [owner],
      labels: { ...objectLabels(cr.metadata.name, model.version), [ACCEPTANCE_LABEL]: cr.metadata.name },
      annotations: { 'clinops.dev/sha256': model.sha256.toLowerCase() },
    },
    spec: {
      backoffLimit: 0,
      activeDeadlineSeconds: ACCEPTANCE_DEADLINE_S,
      template: {
        metadata: { labels: { [ACCEPTANCE_LABEL]: cr.metadata.name } },
        spec: {
          restartPolicy: 'Never',
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          securityContext: POD_SECURITY,
          ...(fetching.initContainers.length > 0 ? { initContainers: fetching.initContainers } : {}),
          containers: [{
            name: 'accept', image, imagePullPolicy: pullPolicy, args, terminationMessagePolicy: 'FallbackToLogsOnError',
            resources: serving.resources
              ? { requests: withoutGpu(serving.resources.requests), limits: withoutGpu(serving.resources.limits) }
              : { requests: { cpu: '100m', memory: '256Mi' } },
            volumeMounts: mounts, securityContext: security,
          }],
          volumes,
          ...(serving.nodeSelector ? { nodeSelector: serving.nodeSelector } : {}),
          ...(serving.tolerations ? { tolerations: serving.tolerations } : {}),
        },
      },
    },
  };
}

/** Acceptance runs on CPU: a GPU request or limit is not carried over. */
function withoutGpu(limits: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  if (!limits) return undefined;
  const { ['nvidia.com/gpu']: _gpu, ...rest } = limits;
  return rest;
}

interface ContainerSpec {
  name: string;
  image?: string;
  command?: string[];
  args?: string[];
  volumeMounts?: unknown[];
}

interface PodSpecShape {
  containers?: ContainerSpec[];
  initContainers?: ContainerSpec[];
  volumes?: unknown[];
}

export interface ObservedJob {
  metadata?: { name?: string; uid?: string; creationTimestamp?: string };
  spec?: { template?: { spec?: PodSpecShape } };
  status?: { succeeded?: number; failed?: number; conditions?: Array<{ type: string; status: string; reason?: string; message?: string }> };
}

export interface ObservedJobPod {
  metadata?: { name?: string; ownerReferences?: Array<{ uid: string; controller?: boolean }> };
  spec?: PodSpecShape;
  status?: { containerStatuses?: Array<{ name: string; state?: { terminated?: { exitCode: number; message?: string; finishedAt?: string } } }> };
}

/** What a verdict is checked against: the image the operator runs acceptance from, and the holdout's digest when the operator can read it. */
export interface VerdictExpectation {
  image: string;
  holdoutSha256?: string;
}

const runs = (c: ContainerSpec | undefined) => JSON.stringify(c ? [c.name, c.image, c.command ?? [], c.args ?? [], c.volumeMounts ?? []] : null);

/**
 * The Job's own pods: controlled by the Job (its uid), running exactly the Job's containers and volumes.
 * A pod someone made with the Job's labels, an owner reference copied from it, or another image or
 * command, is not the Job's pod and says nothing.
 */
export function jobPods(job: ObservedJob, pods: readonly ObservedJobPod[]): ObservedJobPod[] {
  const uid = job.metadata?.uid;
  const template = job.spec?.template?.spec;
  if (!uid || !template) return [];
  const same = (a: ContainerSpec[] | undefined, b: ContainerSpec[] | undefined) =>
    (a ?? []).length === (b ?? []).length && (a ?? []).every((c, i) => runs(c) === runs(b?.[i]));
  return pods.filter((p) => p.metadata?.ownerReferences?.some((o) => o.controller && o.uid === uid) &&
    same(p.spec?.containers, template.containers) && same(p.spec?.initContainers, template.initContainers) &&
    JSON.stringify(p.spec?.volumes ?? []) === JSON.stringify(template.volumes ?? []));
}

interface Summary {
  pass?: unknown;
  sha256?: unknown;
  cases?: number;
  metrics?: Record<string, number>;
  failures?: string[];
  holdout?: unknown;
}

/**
 * The candidate's result from its Job (the one whose uid status recorded) and that Job's pods: Running
 * until the accept container ended; then Passed only when it exited 0 with a verdict that parses, says
 * `pass: true`, names the candidate's sha256 and (when the operator knows it) the holdout's digest, from a
 * Job running the operator's acceptance image; Failed on exit 1 with `pass: false`; Error otherwise.
 */
export function jobResult(cr: ClinicalModel, job: ObservedJob, pods: readonly ObservedJobPod[], now: string, expect: VerdictExpectation): AcceptanceResult {
  const m = cr.spec.model;
  const sha = m.sha256.toLowerCase();
  const base: AcceptanceResult = {
    sha256: sha, version: m.version, state: 'Running', job: job.metadata?.name, ...(job.metadata?.uid ? { jobUid: job.metadata.uid } : {}),
    startedAt: job.metadata?.creationTimestamp ?? now,
  };
  const holdout = cr.spec.acceptance!.holdout;
  const source = holdout.configMapRef ? `ConfigMap ${holdout.configMapRef.name} key ${holdout.configMapRef.key ?? 'holdout.json'}` : `file ${holdout.path} on the model's claim`;
  const image = job.spec?.template?.spec?.containers?.find((c) => c.name === 'accept')?.image;
  if (image !== expect.image) {
    return { ...base, state: 'Error', finishedAt: now, holdout: { source }, message: `the acceptance Job runs ${image ?? 'no accept container'}, not the operator's acceptance image ${expect.image}` };
  }
  const ended = jobPods(job, pods).map((p) => p.status?.containerStatuses?.find((c) => c.name === 'accept')?.state?.terminated).find((t) => t !== undefined);
  if (!ended) {
    const failed = job.status?.conditions?.find((c) => c.type === 'Failed' && c.status === 'True');
    return failed ? { ...base, state: 'Error', finishedAt: now, message: `the acceptance Job failed: ${failed.reason ?? ''} ${failed.message ?? ''}`.trim() } : base;
  }
  const done = { ...base, finishedAt: ended.finishedAt ?? now };
  let summary: Summary | undefined;
  try {
    const parsed = JSON.parse(ended.message ?? '') as unknown;
    summary = typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? parsed as Summary : undefined;
  } catch {
    summary = undefined;
  }
  const error = (message: string): AcceptanceResult => ({ ...done, state: 'Error', message, holdout: { source } });
  if (!summary || (ended.exitCode !== 0 && ended.exitCode !== 1)) return error((ended.message ?? `exit ${ended.exitCode}`).trim().slice(-1024));
  if (summary.sha256 !== sha) return error(`the verdict is for sha256 ${String(summary.sha256).slice(0, 64)}, not the candidate's ${sha}`);
  if (expect.holdoutSha256 && summary.holdout !== expect.holdoutSha256) {
    return error(`the verdict is for holdout sha256 ${String(summary.holdout).slice(0, 64)}, not the ${source} the operator read (${expect.holdoutSha256})`);
  }
  const passed = ended.exitCode === 0 && summary.pass === true;
  const failed = ended.exitCode === 1 && summary.pass === false;
  if (!passed && !failed) return error(`exit ${ended.exitCode} with a verdict saying pass: ${JSON.stringify(summary.pass)}`);
  return {
    ...done, state: passed ? 'Passed' : 'Failed', cases: summary.cases, metrics: summary.metrics,
    holdout: { source, ...(typeof summary.holdout === 'string' ? { sha256: summary.holdout } : {}) },
    ...(failed ? { failures: summary.failures ?? [], message: (summary.failures ?? []).join('; ') } : {}),
  };
}

/** status.acceptance after the candidate's result (finished results go to history; settleGates makes a servable one the accepted version). */
export function nextAcceptance(cr: ClinicalModel, result: AcceptanceResult): AcceptanceStatus {
  const prev = cr.status?.acceptance ?? {};
  const next: AcceptanceStatus = { ...prev, candidate: result };
  const finished = result.state !== 'Running';
  if (finished && prev.candidate?.sha256 === result.sha256 && prev.candidate.state === result.state && prev.candidate.finishedAt === result.finishedAt) return prev;
  if (finished) next.history = [...(prev.history ?? []), result].slice(-HISTORY);
  return next;
}
