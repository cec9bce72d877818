// Per-image summaries for input drift on imaging models, where a feature per pixel means nothing: four
// numbers per image, each a single pass over the model's input tensor (channels × height × width, after
// preprocessing), each catching a way acquisition changes that a confidence may hide —
//   image_mean      mean intensity: exposure, a new windowing or normalization
//   image_std       standard deviation: contrast
//   image_gradient  mean absolute difference between neighbouring pixels (across and down): sharpness
//                   and noise — a new detector, a changed reconstruction kernel, resampled images
//   image_clipped   share of pixels at the image's own minimum or maximum: saturated or crushed regions
//                   (over-exposure, a burned-in border), which mean and spread only partly show
// The server bins them per image like tabular features (never keeping the image); `clinops reference
// --image-summaries` computes the same on the holdout. A feature list naming only these selects them.

export const IMAGE_SUMMARIES = ['image_mean', 'image_std', 'image_gradient', 'image_clipped'] as const;
export type ImageSummary = (typeof IMAGE_SUMMARIES)[number];

export function isImageSummaries(names: readonly string[]): names is readonly ImageSummary[] {
  return names.length > 0 && names.every((n) => (IMAGE_SUMMARIES as readonly string[]).includes(n));
}

/** The summaries of the image at `offset` in `data` ([channels, height, width], row-major), in IMAGE_SUMMARIES order. */
export function imageSummaries(data: ArrayLike<number>, offset: number, channels: number, height: number, width: number): Record<ImageSummary, number> {
  const n = channels * height * width;
  let sum = 0;
  let sum2 = 0;
  let min = Infinity;
  let max = -Infinity;
  let gradient = 0;
  for (let c = 0; c < channels; c++) {
    for (let y = 0; y < height; y++) {
      const row = offset + (c * height + y) * width;
      const below = y + 1 < height ? row + width : -1;
      let prev = data[row]!;
      for (let x = 0; x < width; x++) {
        const v = data[row + x]!;
        sum += v;
        sum2 += v * v;
        if (v < min) min = v;
        if (v > max) max = v;
        gradient += Math.abs(v - prev); // 0 at x = 0
        prev = v;
        if (below >= 0) gradient += Math.abs(data[below + x]! - v);
      }
    }
  }
  let clipped = 0;
  if (max > min) {
    for (let i = offset; i < offset + n; i++) {
      const v = data[i]!;
      if (v === min || v === max) clipped++;
    }
  }
  const pairs = channels * (height * (width - 1) + (height - 1) * width);
  const mean = sum / n;
  return {
    image_mean: mean,
    image_std: Math.sqrt(Math.max(0, sum2 / n - mean * mean)),
    image_gradient: pairs > 0 ? gradient / pairs : 0,
    // A flat image is all one value: nothing in it is clipped against anything else.
    image_clipped: max > min ? clipped / n : 0,
  };
}
