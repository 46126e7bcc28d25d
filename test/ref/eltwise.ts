// float64 reference for the broadcasting binary kernels: numpy rules applied index by index,
// with no dimension collapsing (so it cannot share a bug with the host's plan).

export function binaryScalarRef(op: string): (a: number, b: number) => number {
  switch (op) {
    case 'add':
      return (a, b) => a + b;
    case 'sub':
      return (a, b) => a - b;
    case 'mul':
      return (a, b) => a * b;
    case 'div':
      return (a, b) => a / b;
    case 'max':
      return Math.max;
    case 'min':
      return Math.min;
    case 'pow':
      // C powf (onnxruntime), which differs from Math.pow only for 1^y and (-1)^±Inf
      return (x: number, y: number) => (x === 1 || (x === -1 && Math.abs(y) === Infinity) ? 1 : Math.pow(x, y));
    case 'prelu':
      return (x: number, s: number) => (x >= 0 ? x : x * s);
    // booleans as 0 / 1
    case 'greater':
      return (a, b) => +(a > b);
    case 'less':
      return (a, b) => +(a < b);
    case 'equal':
      return (a, b) => +(a === b);
    case 'greaterOrEqual':
      return (a, b) => +(a >= b);
    case 'lessOrEqual':
      return (a, b) => +(a <= b);
    case 'and':
      return (a, b) => +(a !== 0 && b !== 0);
    case 'or':
      return (a, b) => +(a !== 0 || b !== 0);
    case 'xor':
      return (a, b) => +((a !== 0) !== (b !== 0));
    default:
      throw new Error(`no reference for binary op ${op}`);
  }
}

/** Output dims under numpy broadcasting, or undefined when the shapes do not broadcast. */
export function broadcastDimsRef(a: readonly number[], b: readonly number[]): number[] | undefined {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const da = i - (rank - a.length) >= 0 ? a[i - (rank - a.length)] : 1;
    const db = i - (rank - b.length) >= 0 ? b[i - (rank - b.length)] : 1;
    if (da === db) out.push(da);
    else if (da === 1) out.push(db);
    else if (db === 1) out.push(da);
    else return undefined;
  }
  return out;
}

/** Flat offset into an input of dims `own` for output coordinates `coords` (right-aligned). */
function offsetOf(coords: number[], own: readonly number[]): number {
  let off = 0;
  const lead = coords.length - own.length;
  for (let i = 0; i < own.length; i++) off = off * own[i] + (own[i] === 1 ? 0 : coords[i + lead]);
  return off;
}

export function binaryRef(op: string, A: ArrayLike<number>, aDims: readonly number[], B: ArrayLike<number>, bDims: readonly number[]): { data: Float64Array; dims: number[] } {
  const dims = broadcastDimsRef(aDims, bDims);
  if (!dims) throw new Error(`reference: ${aDims} and ${bDims} do not broadcast`);
  const f = binaryScalarRef(op);
  const n = dims.reduce((p, d) => p * d, 1);
  const data = new Float64Array(n);
  const coords = new Array<number>(dims.length).fill(0);
  for (let i = 0; i < n; i++) {
    let rem = i;
    for (let d = dims.length - 1; d >= 0; d--) {
      coords[d] = rem % dims[d];
      rem = Math.floor(rem / dims[d]);
    }
    data[i] = f(A[offsetOf(coords, aDims)], B[offsetOf(coords, bDims)]);
  }
  return { data, dims };
}
