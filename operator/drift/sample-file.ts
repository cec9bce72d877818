// The format of a sample of values, shared by `clinops drift` files and the reference ConfigMaps the
// operator reads: a JSON array of numbers, or one number per line.

/** A sample file: a JSON array of numbers, or one number per line (blank lines and # comments skipped). */
export function parseSample(text: string, file: string): number[] {
  const trimmed = text.trim();
  if (trimmed.startsWith('[')) {
    let data: unknown;
    try {
      data = JSON.parse(trimmed);
    } catch (err) {
      throw new Error(`${file}: not valid JSON (${(err as Error).message})`);
    }
    if (!Array.isArray(data)) throw new Error(`${file}: expected a JSON array of numbers`);
    data.forEach((v, i) => {
      if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`${file}: element ${i} is ${JSON.stringify(v)}, not a finite number`);
    });
    if (data.length === 0) throw new Error(`${file}: the array is empty`);
    return data as number[];
  }
  const out: number[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/#.*/, '').trim();
    if (line === '') return;
    const v = Number(line);
    if (!Number.isFinite(v)) throw new Error(`${file}:${i + 1}: "${line.slice(0, 40)}" is not a finite number`);
    out.push(v);
  });
  if (out.length === 0) throw new Error(`${file}: no numbers found`);
  return out;
}
