// Reading what a pod answers — a model's pods run an image the spec's editor chose — bounded in bytes as
// the caller's AbortSignal bounds it in time: a declared length past the bound is refused unread, and a
// body that grows past it is cut off as it streams. The error names the bound.

export class AnswerTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`the answer is larger than ${limit} bytes; cut off`);
    this.name = 'AnswerTooLargeError';
  }
}

/** The response's JSON, read up to `maxBytes`. */
export async function jsonWithin<T>(res: Response, maxBytes: number): Promise<T> {
  const declared = Number(res.headers.get('content-length'));
  if (declared > maxBytes) {
    await res.body?.cancel().catch(() => undefined);
    throw new AnswerTooLargeError(maxBytes);
  }
  if (!res.body) return JSON.parse('') as T;
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw new AnswerTooLargeError(maxBytes);
    }
    chunks.push(value);
  }
  return JSON.parse(Buffer.concat(chunks, size).toString('utf8')) as T;
}
