// Softmax cross-entropy over class logits, on kernel pointers.
//   loss = mean over rows of (logsumexp(logits[r]) - logits[r][label[r]])
//   dlogits = (softmax(logits) - onehot(label)) / rows   (OVERWRITTEN; may be the logits buffer)
// labels: rows i32 class indices (e.g. k.uploadI32). Needs nothing saved: it is the last op.
import { ArgumentError } from '../../errors.js';
import type { Kernels } from '../../wasm/kernels.js';
import { checkCount, has } from './check.js';

/** Mean cross-entropy of the rows; fills dlogits when given (omit or 0 for the loss only). */
export function softmaxCrossEntropy(k: Kernels, logits: number, labels: number, rows: number, classes: number, dlogits?: number): number {
  checkCount(rows, 'softmaxCrossEntropy rows');
  checkCount(classes, 'softmaxCrossEntropy classes', 1);
  k.requireFloats(logits, rows * classes, 'softmaxCrossEntropy logits');
  k.requireFloats(labels, rows, 'softmaxCrossEntropy labels (i32)');
  if (has(dlogits)) k.requireFloats(dlogits, rows * classes, 'softmaxCrossEntropy dlogits');
  if (rows === 0) return NaN; // the mean of nothing, as torch's mean reduction gives
  const bad = k.fn.grad_ce_check_labels(labels, rows, classes) as number;
  if (bad >= 0) {
    const label = k.i32[(labels >> 2) + bad];
    throw new ArgumentError(`softmaxCrossEntropy: label ${label} at index ${bad} is outside the ${classes} classes [0, ${classes - 1}]`);
  }
  const sum = k.fn.grad_softmax_ce(logits, labels, rows, classes, dlogits ?? 0, 1 / rows) as number;
  return sum / rows;
}
