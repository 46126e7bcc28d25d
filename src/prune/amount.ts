// `amount` as torch.nn.utils.prune reads it: a fraction in [0, 1) of the weights, or an integer
// count of them. JavaScript has one number type, so every integer (1 included) is a count.
import { ArgumentError } from '../errors.js';

/** Throws unless amount is a valid fraction or count (before any layer is looked at). */
export function checkAmount(amount: unknown, what = 'amount'): asserts amount is number {
  if (typeof amount !== 'number' || !Number.isFinite(amount)) {
    throw new ArgumentError(`${what} must be a finite number: a fraction in [0, 1) or an integer count of weights; got ${String(amount)}`);
  }
  if (amount < 0) throw new ArgumentError(`${what} ${amount} is negative; use a fraction in [0, 1) or an integer count >= 0`);
  if (!Number.isInteger(amount) && amount >= 1) {
    throw new ArgumentError(`${what} ${amount}: a fraction must be in [0, 1) (an integer counts weights); use e.g. 0.5 for half of the weights`);
  }
}

/**
 * How many of `n` units to prune: round(amount * n) for a fraction, amount for a count.
 * A count larger than n is an ArgumentError naming `where` (a layer, or "the selected layers").
 */
export function pruneCount(amount: number, n: number, where: string, unit = 'weights'): number {
  if (Number.isInteger(amount)) {
    if (amount > n) throw new ArgumentError(`amount ${amount} is larger than the ${n} ${unit} of ${where}; use at most ${n}, or a fraction in [0, 1)`);
    return amount;
  }
  return Math.round(amount * n);
}
