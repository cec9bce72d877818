// Per-feature input drift without raw values leaving the pod: the reference gives each input feature's
// (for image models, each per-image summary's: contract/image-summaries.ts)
// bin edges (fine quantiles of the holdout, from a mounted ConfigMap); each prediction's row is reduced
// at once to one bin index per feature, kept in a bounded ring numbered like the monitoring window; a
// reader gets only the counts per bin over the predictions after its cursor — never a value, never a
// single prediction's bins. Bins are right-closed, as PSI's: bin j is (e_{j−1}, e_j], e₀ = −∞, e_k = +∞,
// so a value's bin is the number of edges below it (contract/bins.ts).
import { binOf, binsDigest } from '../../contract/bins.js';
import { parseFeatureReference } from '../../contract/feature-reference.js';
import { type ImageSummary, imageSummaries, isImageSummaries } from '../../contract/image-summaries.js';

export interface FeatureReference {
  features: ReadonlyArray<{ name: string; edges: readonly number[] }>;
}

/** A feature reference from its JSON text, checked (contract/feature-reference.ts): the counts are the operator's. */
export function featureEdges(text: string, where: string): FeatureReference {
  return { features: parseFeatureReference(text, where, false) };
}

export class FeatureCounts {
  private readonly bins: Uint16Array;
  private readonly filled: Float64Array;
  private last = 0;
  readonly width: number;
  /** Which bins these are (contract/bins.ts binsDigest), reported with the counts. */
  readonly digest: string;
  /** The features are per-image summaries (contract/image-summaries.ts), not input columns. */
  readonly image: boolean;

  constructor(readonly reference: FeatureReference, readonly capacity: number) {
    this.width = reference.features.length;
    this.digest = binsDigest(reference.features);
    this.image = isImageSummaries(reference.features.map((f) => f.name));
    this.bins = new Uint16Array(capacity * this.width);
    this.filled = new Float64Array(capacity);
  }

  /** Each feature's bin for one row of values (the row's features in the reference's order). */
  binsOf(row: ArrayLike<number | bigint>, offset: number): Uint16Array {
    const out = new Uint16Array(this.width);
    for (let f = 0; f < this.width; f++) out[f] = binOf(this.reference.features[f]!.edges, Number(row[offset + f]));
    return out;
  }

  /** Image models (features named only by IMAGE_SUMMARIES): each summary's bin for one image [channels, height, width]. */
  binsOfImage(data: ArrayLike<number>, offset: number, dims: readonly number[]): Uint16Array {
    const [channels, height, width] = dims as [number, number, number];
    const s = imageSummaries(data, offset, channels, height, width);
    const out = new Uint16Array(this.width);
    for (let f = 0; f < this.width; f++) out[f] = binOf(this.reference.features[f]!.edges, s[this.reference.features[f]!.name as ImageSummary]);
    return out;
  }

  /** Record the bins of the prediction numbered `seq` (the monitoring window's number for it). */
  add(seq: number, bins: Uint16Array): void {
    const slot = seq % this.capacity;
    this.bins.set(bins, slot * this.width);
    this.filled[slot] = seq;
    this.last = Math.max(this.last, seq);
  }

  /** Counts per feature and bin over the predictions numbered after `after`, and whether some were evicted unread. */
  after(after: number): { counts: number[][]; dropped: boolean } {
    const counts = this.reference.features.map((f) => new Array<number>(f.edges.length + 1).fill(0));
    const oldest = Math.max(1, this.last - this.capacity + 1);
    for (let seq = Math.max(after + 1, oldest); seq <= this.last; seq++) {
      const slot = seq % this.capacity;
      if (this.filled[slot] !== seq) continue; // a prediction without a feature row (another input shape)
      for (let f = 0; f < this.width; f++) counts[f]![this.bins[slot * this.width + f]!]! += 1;
    }
    return { counts, dropped: after + 1 < oldest && this.last > 0 };
  }
}
