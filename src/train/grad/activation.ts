// Backward of the ReLU family (the activations the conv / GEMM epilogues fuse), on kernel pointers:
//   relu       dx = t > 0 ? dy : 0
//   clip       dx = min < t < max ? dy : 0   (ReLU6 = clip 0..6; zero at the bounds, like PyTorch)
//   leakyRelu  dx = t > 0 ? dy : alpha * dy
// t is what the forward saved: by default its OUTPUT y (all a fused Conv/Gemm epilogue leaves),
// or its input x (saved: 'input'). Both give the same mask for relu and clip, and for leakyRelu
// with alpha > 0; a leakyRelu with alpha <= 0 must pass the input. dx may be dy (in place).
import { ArgumentError } from '../../errors.js';
import { activationArgs, type FusedActivation } from '../../kernels/activation.js';
import type { Kernels } from '../../wasm/kernels.js';
import { checkCount } from './check.js';

/** dx = dy * act'(t) over n floats. */
export function activationBackward(k: Kernels, act: FusedActivation, t: number, dy: number, dx: number, n: number, saved: 'output' | 'input' = 'output'): void {
  checkCount(n, 'activationBackward n');
  if (saved !== 'output' && saved !== 'input') throw new ArgumentError(`activationBackward: saved must be 'output' or 'input', got ${JSON.stringify(saved)}`);
  const [code, p0, p1] = activationArgs(act);
  if (code === 0) throw new ArgumentError("activationBackward: kind 'none' has no backward (the gradient passes through unchanged)");
  if (code === 3 && saved === 'output' && !(p0 > 0)) {
    throw new ArgumentError(`activationBackward: leakyRelu with alpha ${p0} <= 0 cannot be differentiated from its output; save the input and pass saved: 'input'`);
  }
  k.requireFloats(t, n, `activationBackward ${saved}`);
  k.requireFloats(dy, n, 'activationBackward dy');
  k.requireFloats(dx, n, 'activationBackward dx');
  if (n === 0) return;
  k.fn.grad_act(code, t, dy, dx, n, p0, p1);
}
