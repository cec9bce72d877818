// The model card the server shows at /v1/models/{m}/card. From a file when one is configured (the
// operator mounts the ClinicalModel's card from a ConfigMap, so editing the card updates running pods
// without restarting them), otherwise the inline card given at startup. The file is read again only
// when its modification time changes; a file that is missing or not a JSON object of strings leaves the
// last good card in place.
import { readFileSync, statSync } from 'node:fs';

export type ModelCard = Readonly<Record<string, string>>;

export function isModelCard(v: unknown): v is Record<string, string> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every((x) => typeof x === 'string');
}

export function modelCardSource(inline: ModelCard, file: string | undefined): () => ModelCard {
  if (!file) return () => inline;
  let card = inline;
  let seen = -1;
  return () => {
    try {
      const mtime = statSync(file).mtimeMs;
      if (mtime !== seen) {
        const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
        if (isModelCard(parsed)) card = Object.freeze({ ...parsed });
        seen = mtime;
      }
    } catch {
      // not there (yet) or half-written: keep the last good card
    }
    return card;
  };
}
