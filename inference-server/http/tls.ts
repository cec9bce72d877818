// TLS for the server's listeners: the certificate and key from files (a mounted kubernetes.io/tls
// Secret: cert-manager renews it in place), read again when either changes — each new connection then
// gets the new pair; one that cannot be read or does not match its key is logged and the old pair kept.
import { readFileSync, unwatchFile, watchFile } from 'node:fs';
import { createSecureContext } from 'node:tls';

export interface TlsFiles {
  certFile: string;
  keyFile: string;
}

export interface TlsPair {
  cert: Buffer;
  key: Buffer;
}

/** Read the pair and check that it makes a context (a key that does not match its certificate throws). */
export function readTlsPair(files: TlsFiles): TlsPair {
  const pair = { cert: readFileSync(files.certFile), key: readFileSync(files.keyFile) };
  createSecureContext(pair);
  return pair;
}

/** Call `apply` with the new pair whenever either file changes (polled every `intervalMs`); returns a stop function. */
export function watchTlsPair(files: TlsFiles, apply: (pair: TlsPair) => void, log: (level: 'info' | 'warn', msg: string, f?: Record<string, unknown>) => void, intervalMs = 2000): () => void {
  const reload = () => {
    try {
      apply(readTlsPair(files));
      log('info', 'TLS certificate reloaded', { cert: files.certFile });
    } catch (err) {
      log('warn', 'TLS certificate not reloaded; the previous one stays in use', { error: (err as Error).message.split('\n')[0] });
    }
  };
  for (const f of [files.certFile, files.keyFile]) watchFile(f, { interval: intervalMs }, (cur, prev) => {
    if (cur.mtimeMs !== prev.mtimeMs || cur.ino !== prev.ino) reload();
  });
  return () => {
    for (const f of [files.certFile, files.keyFile]) unwatchFile(f);
  };
}
