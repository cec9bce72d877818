// The pods of a model as the operator reads them, and what it asks of them: ready, serving which
// sha256, unschedulable. Below the controller, rollout and acceptance, which all read pods.
export interface ContainerState {
  waiting?: { reason?: string; message?: string };
  terminated?: { exitCode?: number; reason?: string; message?: string };
}

export interface ObservedPod {
  metadata?: { name?: string; uid?: string; deletionTimestamp?: string; labels?: Record<string, string> };
  spec?: { containers?: Array<{ name: string; env?: Array<{ name: string; value?: string }> }> };
  status?: {
    phase?: string;
    podIP?: string;
    conditions?: Array<{ type: string; status: string; reason?: string; message?: string }>;
    containerStatuses?: Array<{ name: string; ready?: boolean; restartCount?: number; state?: ContainerState; lastState?: ContainerState }>;
    initContainerStatuses?: Array<{ name: string; ready?: boolean; restartCount?: number; state?: ContainerState; lastState?: ContainerState }>;
  };
}

export function isReady(pod: ObservedPod): boolean {
  return !pod.metadata?.deletionTimestamp &&
    (pod.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

export function servesSha(pod: ObservedPod, sha256: string): boolean {
  const server = pod.spec?.containers?.find((c) => c.name === 'server');
  return server?.env?.some((e) => e.name === 'CLINOPS_MODEL_SHA256' && e.value === sha256) ?? false;
}

/** The scheduler's message for the first pod it could not place, e.g. "0/3 nodes are available: …". */
export function unschedulableMessage(pods: readonly ObservedPod[]): string | undefined {
  for (const pod of pods) {
    if (pod.metadata?.deletionTimestamp || pod.status?.phase !== 'Pending') continue;
    const c = pod.status?.conditions?.find((x) => x.type === 'PodScheduled' && x.status === 'False');
    if (c?.reason === 'Unschedulable') return `pod ${pod.metadata?.name ?? ''}: ${c.message ?? 'unschedulable'}`;
  }
  return undefined;
}
