// The gates before serving (pure): which model version serves, the Job that accepts a candidate, what
// that Job's pod said, and the go/no-go sign-off. Every new spec.model.sha256 is a candidate; it serves
// only once a Job from the server image has run `clinops accept` on the spec's labelled holdout and
// passed (spec.acceptance), and every checklist item is signed for its sha256 by a named person
// (spec.approval). Until then (or when it fails) the version that passed before keeps serving, and a
// model with none serves nothing.
// The Job has no access to the API: its verdict comes back in its container's termination message.
import type { AcceptanceResult, AcceptanceStatus, ApprovalStatus, ClinicalModel, OwnerReference } from '../api/types.js';
import { CONTAINER_SECURITY, MODEL_MOUNT, modelVolume, ownerReference, POD_SECURITY } from '../desired/deployment.js';
import { objectLabels } from '../desired/labels.js';
import { parseModelUri } from '../desired/model-uri.js';
import { inRollout } from '../rollout/rollout.js';

export const ACCEPTANCE_LABEL = 'clinops.dev/acceptance-of';
const HOLDOUT_MOUNT = '/etc/clinops/holdout';
/** A Job that has not finished in this long is stopped, and the candidate is in Error. */
export const ACCEPTANCE_DEADLINE_S = 900;
const HISTORY = 10;

/** The model version to serve: spec.model, the version accepted before, or nothing. */
export interface Served {
  sha256: string;
  version: string;
  uri: string;
}

/** The go/no-go checklist of the protocol (§16.6), the default of spec.approval.items. */
export const PROTOCOL_CHECKLIST = ['performance-validation', 'infrastructure', 'monitoring', 'governance', 'compliance', 'go-no-go'];

/** A model whose versions pass gates before they serve (acceptance, approval, or a rollout that needs a version to roll back to). */
export function gated(cr: ClinicalModel): boolean {
  return cr.spec.acceptance !== undefined || approvalRequired(cr) || cr.spec.rollout !== undefined;
}

export function approvalRequired(cr: ClinicalModel): boolean {
  return cr.spec.approval !== undefined && cr.spec.approval.requireApproval !== false;
}

/** The checklist items not yet signed for the declared sha256. */
export function missingItems(cr: ClinicalModel): string[] {
  if (!approvalRequired(cr)) return [];
  const sha = cr.spec.model.sha256.toLowerCase();
  const signed = (cr.spec.approval?.signatures ?? []).filter((x) => x.sha256.toLowerCase() === sha);
  return (cr.spec.approval?.items ?? PROTOCOL_CHECKLIST).filter((item) => !signed.some((x) => x.item === item));
}

/** The declared version passed acceptance (or none is asked for). */
export function acceptancePassed(cr: ClinicalModel): boolean {
  if (!cr.spec.acceptance) return true;
  const sha = cr.spec.model.sha256.toLowerCase();
  const a = cr.status?.acceptance;
  return a?.accepted?.sha256 === sha || (a?.candidate?.sha256 === sha && a.candidate.state === 'Passed');
}

/** The declared version may serve: every gate it declares is passed (a version once served stays servable). */
export function servable(cr: ClinicalModel): boolean {
  const sha = cr.spec.model.sha256.toLowerCase();
  return cr.status?.acceptance?.accepted?.sha256 === sha || (acceptancePassed(cr) && missingItems(cr).length === 0);
}

export function servedModel(cr: ClinicalModel): Served | undefined {
  const m = cr.spec.model;
  const spec = { sha256: m.sha256.toLowerCase(), version: m.version, uri: m.uri };
  // In a rollout the candidate runs beside the accepted version until it is promoted (it becomes the accepted one).
  if (!gated(cr) || (servable(cr) && !inRollout(cr))) return spec;
  const a = cr.status?.acceptance?.accepted;
  return a ? { sha256: a.sha256, version: a.version, uri: a.uri } : undefined;
}

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
    const approval: ApprovalStatus = { ...status.approval, sha256: sha, missing, signatures };
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

export function acceptanceJobName(cr: ClinicalModel): string {
  return `${cr.metadata.name}-accept-${cr.spec.model.sha256.toLowerCase().slice(0, 10)}`;
}

/** The Job that runs `clinops accept` on the candidate: the model from the same volume, the holdout mounted. */
export function acceptanceJob(cr: ClinicalModel, image: string): object {
  const { model, serving = {} } = cr.spec;
  const acc = cr.spec.acceptance!;
  const name = acceptanceJobName(cr);
  const namespace = cr.metadata.namespace ?? 'default';
  const source = parseModelUri(model.uri);
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
  const owner: OwnerReference = ownerReference(cr);
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name, namespace, ownerReferences: [owner],
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
          ...(source.kind === 'https' ? {
            initContainers: [{
              name: 'fetch-model', image, imagePullPolicy: pullPolicy, terminationMessagePolicy: 'FallbackToLogsOnError',
              args: ['fetch-model', '--url', source.url, '--sha256', model.sha256.toLowerCase(), '--out', `${MODEL_MOUNT}/model.onnx`],
              volumeMounts: [{ name: 'model', mountPath: MODEL_MOUNT }], securityContext: security,
            }],
          } : {}),
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

export interface ObservedJob {
  metadata?: { name?: string; creationTimestamp?: string };
  status?: { succeeded?: number; failed?: number; conditions?: Array<{ type: string; status: string; reason?: string; message?: string }> };
}

export interface ObservedJobPod {
  status?: { containerStatuses?: Array<{ name: string; state?: { terminated?: { exitCode: number; message?: string; finishedAt?: string } } }> };
}

/**
 * The candidate's result from its Job and the Job's pod: Running until the pod's accept container
 * ended; then Passed (exit 0), Failed (exit 1, the summary's failures) or Error (anything else).
 */
export function jobResult(cr: ClinicalModel, job: ObservedJob, pods: readonly ObservedJobPod[], now: string): AcceptanceResult {
  const m = cr.spec.model;
  const base: AcceptanceResult = { sha256: m.sha256.toLowerCase(), version: m.version, state: 'Running', job: job.metadata?.name, startedAt: job.metadata?.creationTimestamp ?? now };
  const holdout = cr.spec.acceptance!.holdout;
  const source = holdout.configMapRef ? `ConfigMap ${holdout.configMapRef.name} key ${holdout.configMapRef.key ?? 'holdout.json'}` : `file ${holdout.path} on the model's claim`;
  const ended = pods.map((p) => p.status?.containerStatuses?.find((c) => c.name === 'accept')?.state?.terminated).find((t) => t !== undefined);
  if (!ended) {
    const failed = job.status?.conditions?.find((c) => c.type === 'Failed' && c.status === 'True');
    return failed ? { ...base, state: 'Error', finishedAt: now, message: `the acceptance Job failed: ${failed.reason ?? ''} ${failed.message ?? ''}`.trim() } : base;
  }
  const done = { ...base, finishedAt: ended.finishedAt ?? now };
  let summary: { pass?: boolean; cases?: number; metrics?: Record<string, number>; failures?: string[]; holdout?: string } | undefined;
  try {
    summary = JSON.parse(ended.message ?? '') as typeof summary;
  } catch {
    summary = undefined;
  }
  if ((ended.exitCode === 0 || ended.exitCode === 1) && summary) {
    return {
      ...done, state: ended.exitCode === 0 ? 'Passed' : 'Failed', cases: summary.cases, metrics: summary.metrics,
      holdout: { source, ...(summary.holdout ? { sha256: summary.holdout } : {}) },
      ...(ended.exitCode === 1 ? { failures: summary.failures ?? [], message: (summary.failures ?? []).join('; ') } : {}),
    };
  }
  return { ...done, state: 'Error', message: (ended.message ?? `exit ${ended.exitCode}`).trim().slice(-1024), holdout: { source } };
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
