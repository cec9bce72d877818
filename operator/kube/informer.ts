// A cache of one kind of object, kept current by list+watch (@kubernetes/client-node's ListWatch,
// which re-lists on 410 Gone). On any other error the watch stops; here it is restarted with capped
// exponential backoff, forever — an informer never takes the process down.
import { ADD, DELETE, ERROR, UPDATE, Watch, type KubeConfig, type KubernetesObject, ListWatch } from '@kubernetes/client-node';
import type { Logger } from '../../contract/log.js';
import { type KubeClient, type ResourceRef, resourcePath } from './client.js';

export type InformerEvent = 'add' | 'update' | 'delete';

export interface InformerOptions<T> {
  labelSelector?: string;
  onEvent: (event: InformerEvent, obj: T) => void;
  log: Logger;
  baseBackoffMs?: number;
  maxBackoffMs?: number;
}

export class Informer<T extends KubernetesObject> {
  private readonly lw: ListWatch<T>;
  private failures = 0;
  private stopped = false;
  private restartTimer: NodeJS.Timeout | undefined;
  private errored = false;
  private syncedFlag = false;
  private resolveSynced!: () => void;
  /** Resolves once the first list has filled the cache. */
  readonly synced: Promise<void> = new Promise((r) => (this.resolveSynced = r));

  constructor(
    kc: KubeConfig,
    client: KubeClient,
    private readonly ref: Omit<ResourceRef, 'name' | 'subresource'>,
    private readonly opts: InformerOptions<T>,
  ) {
    const path = resourcePath(ref);
    // Items of a list response carry no apiVersion/kind (watch events do); stamp them so every object
    // in the cache looks the same whichever way it arrived.
    const listFn = () =>
      client.list<T>(ref, { labelSelector: opts.labelSelector }).then((l) => {
        const kind = (l as { kind?: string }).kind?.replace(/List$/, '');
        const apiVersion = (l as { apiVersion?: string }).apiVersion;
        return { ...l, items: l.items.map((o) => ({ apiVersion, kind, ...o })) };
      });
    this.lw = new ListWatch<T>(path, new Watch(kc), listFn as never, false, opts.labelSelector);
    // managedFields are often the largest part of an object and the operator never reads them:
    // drop them from the cached copy (as controller-runtime's default cache transform does).
    const trim = (o: T) => {
      if (o.metadata) delete o.metadata.managedFields;
      return o;
    };
    this.lw.on(ADD, (o) => opts.onEvent('add', trim(o)));
    this.lw.on(UPDATE, (o) => opts.onEvent('update', trim(o)));
    this.lw.on(DELETE, (o) => opts.onEvent('delete', o));
    this.lw.on(ERROR, (err) => this.onError(err));
  }

  get isSynced(): boolean {
    return this.syncedFlag;
  }

  async start(): Promise<void> {
    this.stopped = false;
    await this.run();
  }

  stop(): void {
    this.stopped = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    void this.lw.stop();
  }

  get(namespace: string, name: string): T | undefined {
    return this.lw.get(name, namespace);
  }

  list(namespace?: string): readonly T[] {
    return this.lw.list(namespace);
  }

  private async run(): Promise<void> {
    this.errored = false;
    await this.lw.start();
    if (!this.errored && !this.stopped) {
      this.failures = 0;
      if (!this.syncedFlag) {
        this.syncedFlag = true;
        this.resolveSynced();
        this.opts.log.info('informer synced', { resource: this.ref.plural, objects: this.lw.list().length });
      }
    }
  }

  private onError(err: unknown): void {
    this.errored = true;
    if (this.stopped) return;
    this.failures += 1;
    const base = this.opts.baseBackoffMs ?? 500;
    const delay = Math.min(base * 2 ** (this.failures - 1), this.opts.maxBackoffMs ?? 30_000);
    this.opts.log.warn('watch failed; restarting', {
      resource: this.ref.plural,
      error: err instanceof Error ? err.message : String(err),
      retryInMs: delay,
    });
    this.restartTimer = setTimeout(() => void this.run(), delay);
    this.restartTimer.unref();
  }
}
