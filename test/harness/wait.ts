// Polling with a deadline, for the harness's start-up steps: `probe` resolves a value when the thing is
// there (undefined, or a throw, means not yet); `check` may throw to give up early (a component died).

export async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>, check?: () => void): Promise<T> {
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
    await new Promise((r) => setTimeout(r, 100));
  }
}
