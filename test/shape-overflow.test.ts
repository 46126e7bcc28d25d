// Overflow-checked shape arithmetic: absurd or hostile dims anywhere a size is computed (shape
// inference, folding that materialises tensors, planning, the heap) end in a typed error that
// names the node and the dims, never a RangeError, a crashed process or a size that wraps; and a
// heap that may not grow (a limit, a memory.grow refused) says how many bytes were needed.
import { describe, expect, it } from 'vitest';
import { InferenceSession, type SessionOptions } from '../src/runtime/session.js';
import { ArgumentError, EdgepruneError, ModelFormatError, OutOfMemoryError, ShapeError } from '../src/errors.js';
import { checkBytes, checkDims, elementCount, MAX_DIM } from '../src/graph/size-check.js';
import { Heap } from '../src/wasm/heap.js';
import { loadKernels } from '../src/wasm/loader.js';
import { buildModel, type ModelSpec } from './util/onnx-build.js';

const i64 = (v: number[]) => BigInt64Array.from(v.map(BigInt));
const f32 = (v: number[]) => Float32Array.from(v);

async function createError(spec: ModelSpec, options: SessionOptions = {}): Promise<EdgepruneError> {
  try {
    await InferenceSession.create(buildModel(spec), { wasm: 'simd', ...options });
  } catch (e) {
    if (!(e instanceof EdgepruneError)) throw e; // a RangeError or a TypeError fails the test here
    return e;
  }
  throw new Error('expected create to fail');
}

/** One node reading x (and constants), its output y. */
function oneNode(op: string, inputs: string[], xDims: (number | string)[], initializers: ModelSpec['initializers'] = [], attrs = {}, outputs = ['y']): ModelSpec {
  return { nodes: [{ op, inputs, outputs, attrs }], inputs: [{ name: 'x', dims: xDims }], outputs, initializers };
}

/** A folded constant `p` (from `op` on constants only) added to x, so it is read at run time. */
function folded(op: string, inputs: string[], initializers: ModelSpec['initializers'], attrs = {}): ModelSpec {
  return {
    nodes: [{ op, inputs, outputs: ['p'], attrs }, { op: 'Add', inputs: ['x', 'p'], outputs: ['y'] }],
    inputs: [{ name: 'x', dims: [1, 1] }],
    outputs: ['y'],
    initializers,
  };
}

const BIG = 2 ** 40;

describe('shape inference and folding: dims no tensor can have', () => {
  const cases: [string, () => ModelSpec, new (...args: never[]) => EdgepruneError, RegExp, SessionOptions?][] = [
    ['Reshape to negative dims (same element count)', () => oneNode('Reshape', ['x', 's'], [2, 5], [{ name: 's', dims: [2], data: i64([-2, -5]) }]), ShapeError,
      /^node 'n0' \(Reshape\) output 'y' has dims \[-2, -5\]: -2 is not a non-negative integer/],
    ['Reshape of an empty tensor to 2^40 x 2^40', () => oneNode('Reshape', ['x', 's'], [0, 5], [{ name: 's', dims: [3], data: i64([0, BIG, BIG]) }]), ShapeError,
      /^node 'n0' \(Reshape\) output 'y' has dims \[0, 1099511627776, 1099511627776\]: 1099511627776 is over the 2147483647 a dim can be/],
    ['Resize by 1e10 (the tables would be 40 GB)', () => oneNode('Resize', ['x', '', 'sc'], [1, 1, 4, 4], [{ name: 'sc', dims: [4], data: f32([1, 1, 1, 1e10]) }], { mode: 'nearest' }), ShapeError,
      /^node 'n0' \(Resize\) output has dims \[1, 1, 4, 40000000000\]/],
    ['Resize to over 4 GiB of output', () => oneNode('Resize', ['x', '', 'sc'], [1, 1, 4, 4], [{ name: 'sc', dims: [4], data: f32([1, 1, 8192, 8193]) }], { mode: 'nearest' }), OutOfMemoryError,
      /^node 'n0' \(Resize\) output has dims \[1, 1, 32768, 32772\]: 1073872896 elements need 4295491584 bytes, over the 4 GiB a WebAssembly memory holds/],
    ['Resize to 4 GiB of output, under a 1 GiB budget', () => oneNode('Resize', ['x', '', 'sc'], [1, 1, 4, 4], [{ name: 'sc', dims: [4], data: f32([1, 1, 8192, 8192]) }], { mode: 'nearest' }), OutOfMemoryError,
      /^at input dims x: \[1, 1, 4, 4\], tensor 'y' \[1, 1, 32768, 32768\] alone needs 4294967296 bytes \(4096\.0 MiB\), over the session's memoryBudget of 1073741824 bytes/],
    ['Concat of two empty tensors past 2^31 - 1', () => ({ nodes: [{ op: 'Concat', inputs: ['x', 'x'], outputs: ['y'], attrs: { axis: 1 } }], inputs: [{ name: 'x', dims: [0, 2 ** 30] }], outputs: ['y'] }), ShapeError,
      /^node 'n0' \(Concat\) output 'y' has dims \[0, 2147483648\]/],
    ['MatMul whose output is 2^32 floats', () => oneNode('MatMul', ['x', 'w'], ['N', 4], [{ name: 'w', dims: [4, 4096], data: new Float32Array(4 * 4096) }]), OutOfMemoryError,
      /^node 'n0' \(MatMul\) output 'y' has dims \[1048576, 4096\]: 4294967296 elements need 17179869184 bytes/, { freeDimensionOverrides: { N: 2 ** 20 } }],
    ['a symbolic batch of 2^40', () => oneNode('Relu', ['x'], ['N', 4]), ShapeError,
      /^input 'x' has dims \[1099511627776, 4\]: 1099511627776 is over the 2147483647 a dim can be/, { freeDimensionOverrides: { N: BIG } }],
    ['an input of 16 GB', () => oneNode('Relu', ['x'], [1, 1, 65536, 65536]), OutOfMemoryError,
      /^input 'x' has dims \[1, 1, 65536, 65536\]: 4294967296 elements need 17179869184 bytes, over the 4 GiB/],
    ['ConstantOfShape 2^40 x 2^40', () => folded('ConstantOfShape', ['s'], [{ name: 's', dims: [2], data: i64([BIG, BIG]) }]), ShapeError,
      /^node 'n0' \(ConstantOfShape\) result has dims \[1099511627776, 1099511627776\]/],
    ['ConstantOfShape with a negative dim', () => folded('ConstantOfShape', ['s'], [{ name: 's', dims: [2], data: i64([3, -1]) }]), ModelFormatError,
      /^node 'n0' \(ConstantOfShape\): shape \[3,-1\] has a negative dim/],
    ['Tile of 2^31 x 0 (empty, but its index map would be 8 GB)', () => folded('Tile', ['c', 'r'], [{ name: 'c', dims: [1, 1], data: f32([1]) }, { name: 'r', dims: [2], data: i64([2 ** 31, 0]) }]), ShapeError,
      /^node 'n0' \(Tile\) result has dims \[2147483648, 0\]/],
    ['Pad of an empty tensor by 2^31 (per-axis tables)', () => folded('Pad', ['c', 'pads'], [{ name: 'c', dims: [0, 1], data: f32([]) }, { name: 'pads', dims: [4], data: i64([0, 0, 0, 2 ** 31]) }]), ShapeError,
      /^node 'n0' \(Pad\) result has dims \[0, 2147483649\]/],
    ['Expand to 2^40', () => folded('Expand', ['c', 's'], [{ name: 'c', dims: [1], data: f32([1]) }, { name: 's', dims: [2], data: i64([BIG, 1]) }]), ShapeError,
      /^node 'n0' \(Expand\) result has dims \[1099511627776, 1\]/],
    ['Range of 1e12 values', () => folded('Range', ['a', 'b', 'd'], [{ name: 'a', dims: [], data: i64([0]) }, { name: 'b', dims: [], data: i64([1e12]) }, { name: 'd', dims: [], data: i64([1]) }]), ShapeError,
      /^node 'n0' \(Range\) result has dims \[1000000000000\]/],
    ['Split with num_outputs 2^40 (an array that long)', () => ({ ...oneNode('Split', ['x'], [1, 4], [], { num_outputs: BIG, axis: 1 }, ['a', 'b']), opset: 18 }), ModelFormatError,
      /^node 'n0' \(Split\): num_outputs is 1099511627776 but the node has 2 outputs$/],
  ];
  it.each(cases)('%s', async (_, spec, type, message, options) => {
    const e = await createError(spec(), options);
    expect(e).toBeInstanceOf(type);
    expect(e.message).toMatch(message);
  });

  it('a dim wasm32 cannot hold is refused whatever the element count', () => {
    expect(() => checkDims([0, 2 ** 31], 'x')).toThrow(ShapeError);
    expect(() => checkDims([2.5], 'x')).toThrow(/2.5 is not a non-negative integer/);
    expect(() => checkDims([NaN], 'x')).toThrow(ShapeError);
    expect(checkDims([0, MAX_DIM], 'x')).toBe(0);
    expect(checkDims([2 ** 15, 2 ** 15], 'x')).toBe(2 ** 30); // exactly 4 GiB of floats: allowed
    expect(() => checkDims([2 ** 15, 2 ** 15 + 1], 'x')).toThrow(OutOfMemoryError);
  });

  it('element counts past 2^53 clamp instead of going inexact, Infinity or NaN', () => {
    const dims = Array.from({ length: 40 }, () => MAX_DIM);
    expect(elementCount(dims)).toBe(Number.MAX_SAFE_INTEGER);
    expect(elementCount([...dims, 0])).toBe(0); // an empty tensor, not Infinity * 0 = NaN
    expect(() => checkDims(dims, "node 'n' (Mul) output 'y'")).toThrow(/9007199254740991 elements need/);
  });

  it('byte counts are checked the same way', () => {
    expect(() => checkBytes(2 ** 33, "node 'c' (Conv) scratch")).toThrow(/^node 'c' \(Conv\) scratch needs 8589934592 bytes, over the 4 GiB/);
    expect(() => checkBytes(NaN, 'scratch')).toThrow(ShapeError);
    expect(() => checkBytes(-4, 'scratch')).toThrow(ShapeError);
    expect(checkBytes(64, 'scratch')).toBe(64);
  });
});

describe('the heap: bounded, checked before memory grows', () => {
  it('refuses byte counts that are not exact integers, and blocks over 4 GiB', async () => {
    const k = await loadKernels('simd');
    for (const bad of [NaN, Infinity, 2 ** 60 + 0.5, -64]) expect(() => k.heap.alloc(bad)).toThrow(ArgumentError);
    const e = (() => {
      try {
        k.heap.alloc(2 ** 33);
      } catch (err) {
        return err as OutOfMemoryError;
      }
    })()!;
    expect(e).toBeInstanceOf(OutOfMemoryError);
    expect(e.message).toBe('a block of 8589934592 bytes is over the 4 GiB a WebAssembly memory holds; use a smaller batch or model');
    expect(e.neededBytes).toBe(2 ** 33);
  });

  it('a limit stops growth before it happens and says how many bytes were needed', async () => {
    const k = await loadKernels('simd');
    k.heap.limit = k.heap.memoryBytes + (1 << 20);
    const before = k.heap.memoryBytes;
    const small = k.heap.alloc(512 << 10); // within the limit: memory grows
    expect(k.heap.memoryBytes).toBeGreaterThan(before);
    const grown = k.heap.memoryBytes;
    let e: OutOfMemoryError | undefined;
    try {
      k.heap.alloc(2 << 20);
    } catch (err) {
      e = err as OutOfMemoryError;
    }
    expect(e).toBeInstanceOf(OutOfMemoryError);
    expect(e!.neededBytes).toBeGreaterThan(k.heap.limit);
    expect(e!.message).toBe(`kernels need ${e!.neededBytes} bytes of wasm memory, over the limit of ${k.heap.limit} bytes; use a smaller batch or model, or raise the limit`);
    expect(k.heap.memoryBytes).toBe(grown); // nothing grew
    // the heap is intact: the block freed is handed out again without growing
    k.heap.release(small);
    expect(k.heap.alloc(512 << 10)).toBe(small);
    expect(k.heap.memoryBytes).toBe(grown);
  });

  it('a memory.grow the host refuses becomes OutOfMemoryError with the bytes needed', () => {
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 2 }); // a host that allows 128 KiB
    const heap = new Heap(memory, 1024);
    heap.alloc(60 << 10);
    let e: OutOfMemoryError | undefined;
    try {
      heap.alloc(100 << 10);
    } catch (err) {
      e = err as OutOfMemoryError;
    }
    expect(e).toBeInstanceOf(OutOfMemoryError);
    expect(e!.neededBytes).toBe(3 * 65536);
    expect(e!.message).toMatch(/^cannot grow wasm memory to 196608 bytes \(.+\); free sessions you no longer use or use a smaller batch$/);
    expect(memory.buffer.byteLength).toBe(65536);
  });
});
