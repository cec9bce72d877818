// The per-image summaries, on images small enough to compute by hand.
import { imageSummaries, isImageSummaries } from '../../../contract/image-summaries.js';

it('computes mean, spread, neighbour differences and the share of clipped pixels', () => {
  // One channel, 2 × 3:   0 1 2
  //                        3 4 5
  const s = imageSummaries([9, 9, 0, 1, 2, 3, 4, 5], 2, 1, 2, 3);
  expect(s.image_mean).toBeCloseTo(2.5, 12);
  expect(s.image_std).toBeCloseTo(Math.sqrt(35 / 12), 12);
  // Across: |1−0| |2−1| |4−3| |5−4| = 4 over 4 pairs; down: 3 3 3 over 3 pairs → 13 / 7.
  expect(s.image_gradient).toBeCloseTo(13 / 7, 12);
  // The minimum 0 and the maximum 5: 2 of 6 pixels.
  expect(s.image_clipped).toBeCloseTo(2 / 6, 12);
});

it('takes every channel, and calls nothing clipped in a flat image', () => {
  const two = imageSummaries([0, 0, 1, 1], 0, 2, 1, 2); // channel 0: 0 0, channel 1: 1 1
  expect(two).toEqual({ image_mean: 0.5, image_std: 0.5, image_gradient: 0, image_clipped: 1 });
  expect(imageSummaries([7, 7, 7, 7], 0, 1, 2, 2)).toEqual({ image_mean: 7, image_std: 0, image_gradient: 0, image_clipped: 0 });
});

it('selects image summaries only when every feature named is one', () => {
  expect(isImageSummaries(['image_mean', 'image_clipped'])).toBe(true);
  expect(isImageSummaries(['image_mean', 'lactate'])).toBe(false);
  expect(isImageSummaries([])).toBe(false);
});
