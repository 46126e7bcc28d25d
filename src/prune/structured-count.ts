// How many channels of a group survive: the arithmetic of amount, roundTo and maxLayerRatio,
// kept apart so its edge cases are testable on their own.

/**
 * Channels kept out of `total` when removing `amount` of them: round(amount·total) removed, the
 * kept count then rounded to the nearest multiple of roundTo (when total >= roundTo, so small
 * layers are not forced to zero), at most floor(maxLayerRatio·total) removed, at least one kept.
 * amount 0 keeps everything.
 */
export function keptCount(total: number, amount: number, roundTo: number, maxLayerRatio: number): number {
  if (amount === 0 || total === 0) return total;
  const drop = Math.round(amount * total);
  if (drop === 0) return total; // rounding up to a multiple must not turn "nothing" into a cut
  let keep = total - drop;
  if (total >= roundTo && roundTo > 1) {
    keep = Math.round(keep / roundTo) * roundTo;
    if (keep > total) keep = Math.floor(total / roundTo) * roundTo;
    if (keep < roundTo) keep = roundTo;
  }
  const minKeep = total - Math.floor(maxLayerRatio * total);
  if (keep < minKeep) {
    keep = minKeep;
    // the cap wins over the multiple, but prefer the next multiple up when it still fits
    if (roundTo > 1 && total >= roundTo) {
      const up = Math.ceil(minKeep / roundTo) * roundTo;
      if (up <= total) keep = up;
    }
  }
  return Math.max(1, Math.min(total, keep));
}

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

/**
 * Channels kept per block when a group is split into `blocks` equal blocks of `perBlock` (a
 * grouped convolution must lose the same count from each). The per-block count is rounded to
 * roundTo / gcd(roundTo, blocks), the smallest multiple that keeps the total a multiple of
 * roundTo (1 when blocks is a multiple of roundTo), when the block is that large; at least 1.
 */
export function keptPerBlock(perBlock: number, blocks: number, amount: number, roundTo: number, maxLayerRatio: number): number {
  return keptCount(perBlock, amount, roundTo / gcd(roundTo, blocks), maxLayerRatio);
}
