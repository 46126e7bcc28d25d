// The tolerance every kernel test uses: max |actual - ref| <= tol * max(1, |ref|), element-wise.
import { expect } from 'vitest';

export const TOL = 1e-4;

export function expectClose(actual: ArrayLike<number>, ref: ArrayLike<number>, what = '', tol = TOL): void {
  expect(actual.length, `${what}: length`).toBe(ref.length);
  let worst = 0;
  let worstAt = -1;
  for (let i = 0; i < ref.length; i++) {
    const r = ref[i];
    const a = actual[i];
    if (Number.isNaN(r) || Number.isNaN(a)) {
      if (Number.isNaN(r) && Number.isNaN(a)) continue;
      worst = Infinity;
      worstAt = i;
      break;
    }
    if (r === a) continue; // also covers matching infinities
    const err = Math.abs(a - r) / Math.max(1, Math.abs(r));
    if (!(err <= worst)) {
      worst = err;
      worstAt = i;
    }
  }
  if (worst > tol) {
    expect.fail(`${what}: error ${worst.toExponential(2)} > ${tol} at index ${worstAt}: got ${actual[worstAt]}, want ${ref[worstAt]}`);
  }
}
