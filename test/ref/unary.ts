// float64 references for the unary kernels, written straight from the op definitions (ONNX / Math).

/** erf in float64: Maclaurin series below 2.5, Laplace continued fraction for erfc above (~1e-15). */
export function erf64(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x < 0) return -erf64(-x);
  if (x === Infinity) return 1;
  if (x < 2.5) {
    const x2 = x * x;
    let term = x; // (-1)^n x^(2n+1) / n!
    let sum = x;
    for (let n = 1; n < 200; n++) {
      term *= -x2 / n;
      const t = term / (2 * n + 1);
      sum += t;
      if (Math.abs(t) < 1e-17 * Math.abs(sum)) break;
    }
    return (sum * 2) / Math.sqrt(Math.PI);
  }
  // erfc(x) = e^{-x^2} / sqrt(pi) / (x + (1/2) / (x + 1 / (x + (3/2) / (x + 2 / (x + ...)))))
  let f = x;
  for (let n = 300; n >= 1; n--) f = x + n / 2 / f;
  return 1 - Math.exp(-x * x) / Math.sqrt(Math.PI) / f;
}

export interface UnaryRefParams {
  alpha?: number;
  beta?: number;
  min?: number;
  max?: number;
  c?: number;
  scale?: number;
  zeroPoint?: number;
}

/** ONNX QuantizeLinear: saturate(round_half_even(x / scale) + zero point), x / scale in float32 as the op computes it. */
function quantizeRef(p: UnaryRefParams, lo: number, hi: number): (x: number) => number {
  const s = Math.fround(p.scale ?? 1), zp = p.zeroPoint ?? 0;
  return (x) => {
    const v = Math.fround(x / s);
    let r = Math.round(v);
    if (r - v === 0.5 && r % 2 !== 0) r -= 1;
    const q = r + zp;
    return q < lo ? lo : q > hi ? hi : q; // NaN stays NaN
  };
}

const SQRT_2_PI = Math.sqrt(2 / Math.PI);

/** The scalar definition of each op. */
export function unaryScalarRef(op: string, p: UnaryRefParams = {}): (x: number) => number {
  switch (op) {
    case 'relu':
      return (x) => Math.max(0, x);
    case 'leakyRelu': {
      const a = p.alpha ?? 0.01;
      return (x) => (x >= 0 ? x : a * x);
    }
    case 'clip': {
      const lo = p.min ?? -Infinity;
      const hi = p.max ?? Infinity;
      return (x) => Math.min(Math.max(x, lo), hi);
    }
    case 'sigmoid':
      return (x) => 1 / (1 + Math.exp(-x));
    case 'hardSigmoid': {
      const a = p.alpha ?? 0.2;
      const b = p.beta ?? 0.5;
      return (x) => Math.max(0, Math.min(1, a * x + b));
    }
    case 'hardSwish':
      return (x) => x * Math.max(0, Math.min(1, x / 6 + 0.5));
    case 'tanh':
      return Math.tanh;
    case 'gelu':
      return (x) => 0.5 * x * (1 + erf64(x / Math.SQRT2));
    case 'geluTanh':
      return (x) => 0.5 * x * (1 + Math.tanh(SQRT_2_PI * (x + 0.044715 * x * x * x)));
    case 'erf':
      return erf64;
    case 'exp':
      return Math.exp;
    case 'log':
      return Math.log;
    case 'sqrt':
      return Math.sqrt;
    case 'neg':
      return (x) => -x;
    case 'abs':
      return Math.abs;
    // the chains exporters write, as their nodes compute them: one float32 rounding per node
    // (x * t overflows for |x| near the float32 maximum, as it does node by node)
    case 'affine': {
      const a = Math.fround(p.alpha ?? 1);
      const b = Math.fround(p.beta ?? 0);
      return (x) => Math.fround(Math.fround(x * a) + b);
    }
    case 'silu':
      return (x) => x / (1 + Math.exp(-x));
    case 'xHardSigmoid': {
      const g = unaryScalarRef('hardSigmoid', p);
      return (x) => x * g(x);
    }
    case 'hardSwishDiv':
    case 'hardSwishMul':
    case 'hardSwishDivFirst':
    case 'hardSwishMulFirst': {
      const f = Math.fround;
      const c = f(p.c ?? 6);
      const t = (x: number) => Math.min(Math.max(f(x + 3), 0), 6);
      if (op === 'hardSwishDiv') return (x) => f(f(x * t(x)) / c);
      if (op === 'hardSwishMul') return (x) => f(f(x * t(x)) * c);
      if (op === 'hardSwishDivFirst') return (x) => f(x * f(t(x) / c));
      return (x) => f(x * f(t(x) * c));
    }
    case 'softplus':
      return (x) => (x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x)));
    case 'elu': {
      const a = p.alpha ?? 1;
      return (x) => (x < 0 ? a * Math.expm1(x) : x);
    }
    case 'selu': {
      const a = p.alpha ?? 1.67326319217681884765625;
      const g = p.beta ?? 1.05070102214813232421875;
      return (x) => g * (x < 0 ? a * Math.expm1(x) : x);
    }
    case 'celu': {
      const a = p.alpha ?? 1;
      return (x) => Math.max(0, x) + Math.min(0, a * Math.expm1(x / a));
    }
    case 'softsign':
      return (x) => x / (1 + Math.abs(x));
    case 'sign':
      return Math.sign;
    case 'floor':
      return Math.floor;
    case 'ceil':
      return Math.ceil;
    case 'round':
      // halves to even (ONNX Round, IEEE roundTiesToEven)
      return (x) => {
        const r = Math.round(x);
        return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
      };
    case 'reciprocal':
      return (x) => 1 / x;
    case 'mish':
      return (x) => x * Math.tanh(x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x)));
    case 'thresholdedRelu': {
      const a = p.alpha ?? 1;
      return (x) => (x > a || Number.isNaN(x) ? x : 0);
    }
    case 'not':
      return (x) => +(x === 0);
    case 'toBool':
      return (x) => +(x !== 0); // NaN is true, as ONNX casts it
    case 'quantizeU8':
      return quantizeRef(p, 0, 255);
    case 'quantizeI8':
      return quantizeRef(p, -128, 127);
    case 'dequantize':
      return (x) => (x - (p.zeroPoint ?? 0)) * (p.scale ?? 1);
    case 'fakeQuantU8':
    case 'fakeQuantI8': {
      const q = quantizeRef(p, op === 'fakeQuantU8' ? 0 : -128, op === 'fakeQuantU8' ? 255 : 127);
      return (x) => (q(x) - (p.zeroPoint ?? 0)) * Math.fround(p.scale ?? 1);
    }
    default:
      throw new Error(`no reference for unary op ${op}`);
  }
}

export function unaryRef(op: string, x: ArrayLike<number>, p?: UnaryRefParams): Float64Array {
  const f = unaryScalarRef(op, p);
  const y = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) y[i] = f(x[i]);
  return y;
}
