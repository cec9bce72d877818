// Polling with a deadline — the one helper the harness, the tests, the demo and the benchmarks share:
// `probe` resolves a value when the thing is there (undefined, or a throw, means not yet); `check` may
// throw to give up early (a component died).

export async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>, check?: () => void, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown;
  for (;;) {
    check?.();
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      lastErr = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastErr ? `: ${String(lastErr)}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Wait until `probe` answers true (a throw counts as not yet). */
export async function until(what: string, probe: () => boolean | Promise<boolean>, timeoutMs = 60_000, everyMs = 100): Promise<void> {
  await waitFor(what, timeoutMs, async () => ((await probe()) ? true : undefined), undefined, everyMs);
}
