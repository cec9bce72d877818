// The confidences of the drift-at-scale benchmark's double and of its reference: one deterministic
// distribution (0.5 + 0.5·u², u uniform by a multiplicative hash of the sequence number).
export function confidenceOf(seq: number): number {
  const u = ((Math.imul(seq, 2654435761) >>> 0) % 1_000_003) / 1_000_003;
  return 0.5 + 0.5 * u * u;
}
