// Why a model's pods are not serving, read from what the kubelet reports on them: a container stuck
// waiting (image missing, crash loop, bad configuration) and what the server said as it exited. The
// server exits with a termination message "Word: reason" when it cannot serve its model (see
// `clinops serve --exit-on-load-failure`); the word is stable, the reason is for people.
import { SERVER_EXIT_REASONS, STUCK_POD_REASONS } from '../api/reasons.js';
import type { ObservedPod } from './pods.js';

export const SERVER_CONTAINER = 'server';
/** The init container that downloads a model given by URL (https://, s3://) and verifies it. */
export const FETCH_CONTAINER = 'fetch-model';

/**
 * What fetch-model said as it last failed: "Word: reason" (CredentialsRejected, NotFound, DigestMismatch,
 * …; cli/fetch-model.ts), after its command's prefix. It never carries a credential.
 */
function fetchFailure(c: ContainerStatus): string | undefined {
  const f = fetchWord(c);
  return f ? `${f.word}: ${f.message}` : undefined;
}

function fetchWord(c: ContainerStatus): { word: string; message: string } | undefined {
  const text = (c.lastState?.terminated?.message ?? c.state?.terminated?.message ?? '').trim();
  const m = /(CredentialsRejected|AccessDenied|NotFound|Unreachable|TimedOut|TooLarge|DigestMismatch|BadCredentials|FetchFailed): ([^\n]+)/.exec(text);
  return m ? { word: m[1]!, message: m[2]!.trim().slice(0, 400) } : undefined;
}

/** fetch-model's last failure on any pod (not terminating): its word and reason. */
export function fetchExit(pods: readonly ObservedPod[]): { word: string; message: string } | undefined {
  for (const pod of pods) {
    if (pod.metadata?.deletionTimestamp) continue;
    const c = pod.status?.initContainerStatuses?.find((s) => s.name === FETCH_CONTAINER);
    const f = c ? fetchWord(c) : undefined;
    if (f) return f;
  }
  return undefined;
}

/** Waiting reasons that will not clear by themselves: each is worth naming in status and an Event. */
export const STUCK_REASONS: ReadonlySet<string> = new Set(STUCK_POD_REASONS);

export interface PodProblem {
  /** The kubelet's reason (CrashLoopBackOff, ErrImageNeverPull, …). */
  reason: (typeof STUCK_POD_REASONS)[number];
  message: string;
}

export interface ServerExit {
  /** DigestMismatch, ModelRejected, LoadFailed — or Crashed when the server left no word. */
  reason: (typeof SERVER_EXIT_REASONS)[number];
  message: string;
  exitCode: number;
}

type ContainerStatus = NonNullable<NonNullable<ObservedPod['status']>['containerStatuses']>[number];

function containers(pod: ObservedPod): ContainerStatus[] {
  return [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
}

/** The server's last exit on any pod, newest first by pod order: what it said, parsed. */
export function serverExit(pods: readonly ObservedPod[]): ServerExit | undefined {
  for (const pod of pods) {
    if (pod.metadata?.deletionTimestamp) continue;
    const c = pod.status?.containerStatuses?.find((s) => s.name === SERVER_CONTAINER);
    const t = c?.state?.terminated ?? c?.lastState?.terminated;
    if (!t || t.exitCode === 0) continue;
    const text = (t.message ?? '').trim();
    const word = /^(DigestMismatch|ModelRejected|LoadFailed): ([\s\S]+)$/.exec(text);
    if (word) return { reason: word[1] as ServerExit['reason'], message: word[2]!.trim(), exitCode: t.exitCode ?? 1 };
    const tail = text ? `: ${text.split('\n').slice(-3).join(' | ').slice(0, 500)}` : '';
    return { reason: 'Crashed', message: `the server exited with code ${t.exitCode}${t.reason ? ` (${t.reason})` : ''}${tail}`, exitCode: t.exitCode ?? 1 };
  }
  return undefined;
}

/** The first container on any pod stuck waiting for a reason that will not clear without a change. */
export function podProblem(pods: readonly ObservedPod[]): PodProblem | undefined {
  for (const pod of pods) {
    if (pod.metadata?.deletionTimestamp) continue;
    for (const c of containers(pod)) {
      const waiting = c.state?.waiting;
      if (!waiting?.reason || !STUCK_REASONS.has(waiting.reason)) continue;
      const exit = c.name === SERVER_CONTAINER ? serverExit([pod]) : undefined;
      const fetched = c.name === FETCH_CONTAINER ? fetchFailure(c) : undefined;
      const detail = exit ? `${exit.reason}: ${exit.message}` : fetched ?? (waiting.message ?? '').trim();
      return {
        reason: waiting.reason as PodProblem['reason'],
        message: `pod ${pod.metadata?.name ?? ''} container ${c.name}: ${waiting.reason}${detail ? ` — ${detail}` : ''}`,
      };
    }
  }
  return undefined;
}
