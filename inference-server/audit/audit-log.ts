// The audit trail: one JSON record per prediction — time, request id, API key id (never the key),
// sha256 of the input, model version, prediction, confidence, latency — and never the input itself.
// Records go to the log stream, and optionally to an append-only file in which each line carries
// the sha256 of the line before it, so an edited, removed or reordered record breaks the chain
// (`clinops audit verify FILE`).
import { createHash } from 'node:crypto';
import { createWriteStream, existsSync, openSync, readSync, fstatSync, closeSync, type WriteStream } from 'node:fs';

export interface AuditRecord {
  time: string;
  requestId: string;
  predictionId: string;
  keyId: string | null;
  inputSha256: string;
  /** A DICOM input: digests of its SOP Instance UID and its pixel data (never a header value). */
  sopInstanceUidSha256?: string;
  pixelDataSha256?: string;
  model: string;
  modelVersion: string;
  prediction: string;
  confidence: number;
  latencyMs: number;
}

export const GENESIS = '0'.repeat(64);

export function sha256Hex(s: string | Uint8Array): string {
  return createHash('sha256').update(s).digest('hex');
}

/** The last line of a file, read from its end (the file may be large). */
function lastLine(path: string): string | undefined {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    if (size === 0) return undefined;
    const len = Math.min(size, 1 << 20);
    const buf = Buffer.alloc(len);
    readSync(fd, buf, 0, len, size - len);
    const lines = buf.toString('utf8').split('\n').filter((l) => l !== '');
    return lines[lines.length - 1];
  } finally {
    closeSync(fd);
  }
}

/** Audit lines waiting for the disk past which predictions are refused (it is not keeping up). */
export const MAX_AUDIT_BACKLOG = 16 * 1024 ** 2;

export class AuditLog {
  private prev = GENESIS;
  private readonly file: WriteStream | undefined;
  private error: string | undefined;

  constructor(
    /** Takes newline-terminated lines. */
    private readonly emit: (lines: string) => void,
    filePath?: string,
  ) {
    if (filePath) {
      if (existsSync(filePath)) {
        const last = lastLine(filePath);
        if (last !== undefined) this.prev = sha256Hex(last);
      }
      this.file = createWriteStream(filePath, { flags: 'a', mode: 0o640 });
      // A full disk or a lost volume: never a crash; the server refuses predictions from then on.
      this.file.on('error', (err: NodeJS.ErrnoException) => {
        this.error ??= `the audit file cannot be written: ${err.code ?? err.message}`;
      });
    }
  }

  /**
   * Why no prediction may be made now, if one may not: the audit file failed, or its writes fall behind
   * by more than MAX_AUDIT_BACKLOG (back-pressure: predictions wait for the disk, not the other way round).
   */
  get failure(): string | undefined {
    if (this.error) return this.error;
    if (this.file && this.file.writableLength > MAX_AUDIT_BACKLOG) return `the audit file is ${this.file.writableLength} bytes behind`;
    return undefined;
  }

  /** The records of one request: one write to the log stream and one to the file, whatever their number. */
  write(records: readonly AuditRecord[]): void {
    if (records.length === 0) return;
    let logLines = '';
    let fileLines = '';
    for (const rec of records) {
      logLines += JSON.stringify({ level: 'info', msg: 'prediction', audit: true, ...rec }) + '\n';
      if (this.file) {
        const line = JSON.stringify({ ...rec, prev: this.prev });
        this.prev = sha256Hex(line);
        fileLines += line + '\n';
      }
    }
    this.emit(logLines);
    if (this.file) this.file.write(fileLines);
  }

  close(): Promise<void> {
    return new Promise((r) => (this.file ? this.file.end(r) : r()));
  }
}

export interface VerifyResult {
  ok: boolean;
  records: number;
  /** 1-based line of the first record that does not chain to the one before it. */
  brokenAt?: number;
  reason?: string;
}

/** Check an audit file's hash chain from the first line; names the first broken record. */
export function verifyChain(text: string): VerifyResult {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  let prev = GENESIS;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    let rec: { prev?: unknown };
    try {
      rec = JSON.parse(line) as { prev?: unknown };
    } catch {
      return { ok: false, records: i, brokenAt: i + 1, reason: 'not a JSON record' };
    }
    if (rec.prev !== prev) {
      return { ok: false, records: i, brokenAt: i + 1, reason: 'does not carry the hash of the record before it (edited, removed or reordered)' };
    }
    prev = sha256Hex(line);
  }
  return { ok: true, records: lines.length };
}
