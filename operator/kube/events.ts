// Kubernetes Events about a ClinicalModel, as `kubectl describe clm` shows them. Recording an event
// never fails a reconcile: a lost event is logged, not retried.
import { randomBytes } from 'node:crypto';
import type { Logger } from '../../contract/log.js';
import type { EventReason } from '../api/reasons.js';
import type { KubeClient } from './client.js';

export interface EventTarget {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; uid?: string; resourceVersion?: string };
}

export type EventType = 'Normal' | 'Warning';

export class EventRecorder {
  constructor(
    private readonly client: KubeClient,
    private readonly component: string,
    private readonly instance: string,
    private readonly log: Logger,
    private readonly onWrite: () => void = () => {},
    private readonly clock: () => number = Date.now,
  ) {}

  async record(target: EventTarget, type: EventType, reason: EventReason, message: string): Promise<void> {
    const namespace = target.metadata.namespace ?? 'default';
    const now = new Date(this.clock()).toISOString();
    const event = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: `${target.metadata.name}.${randomBytes(8).toString('hex')}`, namespace },
      involvedObject: {
        apiVersion: target.apiVersion,
        kind: target.kind,
        name: target.metadata.name,
        namespace,
        uid: target.metadata.uid,
        resourceVersion: target.metadata.resourceVersion,
      },
      type,
      reason,
      message: message.slice(0, 1024),
      source: { component: this.component },
      reportingComponent: this.component,
      reportingInstance: this.instance.slice(0, 128),
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
    };
    try {
      this.onWrite();
      await this.client.create({ group: '', version: 'v1', plural: 'events', namespace }, event);
    } catch (err) {
      this.log.warn('event not recorded', { kind: target.kind, namespace, name: target.metadata.name, reason, error: err });
    }
  }
}
