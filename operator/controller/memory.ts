// What the operator process remembers about each model between passes — never the truth (that is the
// object's status and the cluster), only what saves a read or keeps an Event from being said twice.
// Forgotten with the model.
import type { NotificationStatus } from '../api/types.js';
import type { HistoryEntry } from '../governance/history.js';

export interface ModelMemory {
  /** The model object (uid) whose escalation record this process has looked for. */
  recordLookedFor?: string;
  /** The model's monitoring key, with the model object (uid) it was read for. */
  monitoringKey?: { uid: string; key: string };
  /** An HTTPS model's fetch for its pods, with the TLS Secret's resourceVersion it was made from. */
  podFetch?: { id: string; fetch: typeof fetch };
  /** The last notification attempt this process made (ahead of the cache until its write shows). */
  notified?: NotificationStatus;
  /** Acceptance Jobs this process made, by candidate sha256, until status records them. */
  acceptanceJobs: Map<string, { name: string; uid: string }>;
  /** Objects in the way of the model's records ("Kind/name"): the message its status carries. */
  conflicts: Map<string, string>;
  /** What each `once` Event topic last said. */
  said: Map<string, string>;
  /** When this process last read the replicas' PACS counts (spec.integration.dicom). */
  dicomReadAt?: number;
  /** The hold state each replica confirmed, by pod uid and restart count (a restarted server starts held). */
  holds?: Map<string, boolean>;
  /** The model's check history as last read or written, for the model object (uid) it was read for. */
  history?: { uid: string; entries: HistoryEntry[] };
}

export class Memory {
  private readonly models = new Map<string, ModelMemory>();

  of(key: string): ModelMemory {
    let m = this.models.get(key);
    if (!m) this.models.set(key, (m = { acceptanceJobs: new Map(), conflicts: new Map(), said: new Map() }));
    return m;
  }

  forget(key: string): void {
    this.models.delete(key);
  }

  /**
   * Whether an object in a record's place is someone else's: remembered for the model's RecordConflict
   * condition, with the message to announce when it is new; a conflict the place had is cleared when ours.
   */
  conflict(key: string, place: string, ours: boolean, message: string): { conflict: boolean; announce?: string } {
    const known = this.of(key).conflicts;
    if (ours) {
      known.delete(place);
      return { conflict: false };
    }
    const fresh = known.get(place) !== message;
    known.set(place, message);
    return fresh ? { conflict: true, announce: message } : { conflict: true };
  }
}
