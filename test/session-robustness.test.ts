// A session under misuse: wrong feeds, concurrent run() calls, use after release(), a memory
// budget too small at create and at a re-plan. Each failure is a typed error whose message is
// shown here; each success is checked against onnxruntime-node.
import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { InferenceSession } from '../src/runtime/session.js';
import { Tensor } from '../src/runtime/tensor.js';
import { ArgumentError, InputError, OutOfMemoryError, SessionReleasedError } from '../src/errors.js';
import { buildModel } from './util/onnx-build.js';
import { buildModel as buildHarness } from './conformance/harness.js';
import { randomArray } from './util/rng.js';
import { expectClose } from './util/close.js';
import { smallCnn } from './util/small-cnn.js';

// Conv(1→4, 3x3) → Relu → MaxPool 2 → Flatten → Gemm(64→5), batch symbolic
const CNN = smallCnn();

const image = (batch: number, seed: number) => new Tensor('float32', randomArray(batch * 64, seed), [batch, 1, 8, 8]);

async function reference(t: Tensor): Promise<Float32Array> {
  const s = await ort.InferenceSession.create(CNN, { logSeverityLevel: 3 });
  const out = await s.run({ x: new ort.Tensor('float32', t.data, [...t.dims]) });
  return out.y.data as Float32Array;
}

async function rejection(p: Promise<unknown> | (() => unknown)): Promise<Error> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a rejection');
}

const wasmBytes = (s: InferenceSession) => s.kernels.heap.memoryBytes;

describe('wrong feeds: InputError naming the input and what to pass', () => {
  const cases: [string, unknown, string][] = [
    ['not an object', null, "run() takes an object of input tensors keyed by name ('x'), got null"],
    ['a bare array instead of { x }', new Float32Array(64), "run() takes an object of input tensors keyed by name ('x'), got Float32Array"],
    ['missing', {}, "missing input 'x'; the model's inputs are 'x'"],
    ['extra', { x: image(1, 1), z: image(1, 1) }, "unknown input 'z'; the model's inputs are 'x'"],
    ['not a tensor', { x: new Float32Array(64) }, "input 'x' is Float32Array; pass a Tensor: new Tensor('float32', data, dims)"],
    ['wrong dtype', { x: { type: 'int64', data: new BigInt64Array(64), dims: [1, 1, 8, 8] } }, "input 'x' is int64; the model takes float32 (pass Float32Array.from(data, Number))"],
    ['float32 with other data', { x: { type: 'float32', data: [1, 2], dims: [2] } }, "input 'x' has type float32 but its data is Array; pass a Float32Array"],
    ['wrong fixed dim', { x: new Tensor('float32', new Float32Array(72), [1, 1, 8, 9]) }, "input 'x' has dims [1, 1, 8, 9] but the model expects [N, 1, 8, 8]"],
    ['wrong rank', { x: new Tensor('float32', new Float32Array(64), [8, 8]) }, "input 'x' has dims [8, 8] but the model expects [N, 1, 8, 8]"],
    ['negative dim', { x: { type: 'float32', data: new Float32Array(0), dims: [-1, 1, 8, 8] } }, "input 'x' has invalid dims [-1, 1, 8, 8]; dims are non-negative integers"],
    ['a tensor instead of { x: tensor }', image(1, 1), "run() takes an object of input tensors keyed by name, got a single tensor; pass { x: tensor }"],
    ['dims missing', { x: { type: 'float32', data: new Float32Array(64), dims: undefined } }, "input 'x' has invalid dims undefined; dims are non-negative integers"],
    ['data of the wrong length', { x: { type: 'float32', data: new Float32Array(63), dims: [1, 1, 8, 8] } }, "input 'x': dims [1, 1, 8, 8] need 64 values but the data has 63"],
    ['a dim no kernel can index', { x: { type: 'float32', data: new Float32Array(0), dims: [0, 1, 2 ** 40, 8] } }, "input 'x' has invalid dims [0, 1, 1099511627776, 8]; dims are non-negative integers"],
  ];
  it.each(cases)('%s', async (_, feeds, message) => {
    const s = await InferenceSession.create(CNN);
    const e = await rejection(s.run(feeds as Record<string, Tensor>));
    expect(e).toBeInstanceOf(InputError);
    expect(e.message).toBe(message);
    // the session is unharmed
    const ok = await s.run({ x: image(1, 5) });
    expectClose(ok.y.data, await reference(image(1, 5)), 'after the bad feed');
  });

  it("a model declaring a uint8 input (tf2onnx's image models): uint8 feeds are told to pass float32, and float32 values give onnxruntime's result on the uint8 feed", async () => {
    const model = buildHarness({
      nodes: [
        { op: 'Cast', inputs: ['img'], outputs: ['f'], attrs: { to: 1 } },
        { op: 'Div', inputs: ['f', 'k'], outputs: ['y'] },
      ],
      inputs: [{ name: 'img', dims: [1, 3, 2, 2], type: 'uint8' }],
      outputs: ['y'],
      initializers: [{ name: 'k', dims: [], data: Float32Array.of(255) }],
    });
    const bytes = Uint8Array.from({ length: 12 }, (_, i) => i * 21);
    const s = await InferenceSession.create(model);
    const e = await rejection(s.run({ img: { type: 'uint8', data: bytes, dims: [1, 3, 2, 2] } } as unknown as Record<string, Tensor>));
    expect(e.message).toBe("input 'img' is uint8; edgeprune computes in float32, also for inputs the model declares uint8 (pass Float32Array.from(data, Number))");
    const got = await s.run({ img: new Tensor('float32', Float32Array.from(bytes), [1, 3, 2, 2]) });
    const want = (await (await ort.InferenceSession.create(model)).run({ img: new ort.Tensor('uint8', bytes, [1, 3, 2, 2]) })).y;
    expect(Array.from(got.y.data)).toEqual(Array.from(want.data as Float32Array));
  });

  it("an int64 Tensor (onnxruntime-web code passing token ids) is refused with the conversion that keeps the ids", () => {
    const make = () => new Tensor('int64' as 'float32', BigInt64Array.from([1n, 2n]) as unknown as Float32Array, [2]);
    expect(make).toThrow(InputError);
    expect(make).toThrow("Tensor type 'int64' is not supported; edgeprune computes in float32: convert the data with Float32Array.from(data, Number) (integers such as token ids are exact below 2^24)");
    expect(Array.from(Float32Array.from(BigInt64Array.from([1n, 30521n]), Number))).toEqual([1, 30521]);
  });
  it("onnxruntime-web's create(buffer, byteOffset, byteLength): the model inside a larger buffer", async () => {
    const bytes = smallCnn();
    const big = new Uint8Array(bytes.length + 100);
    big.set(bytes, 37);
    const x = new Tensor('float32', randomArray(64, 3), [1, 1, 8, 8]);
    const want = (await (await InferenceSession.create(bytes, { wasm: 'simd' })).run({ x })).y.data;
    const s = await InferenceSession.create(big.buffer, 37, bytes.length, { wasm: 'simd' });
    expect(Array.from((await s.run({ x })).y.data)).toEqual(Array.from(want));
    await expect(InferenceSession.create(big.buffer, 120, bytes.length)).rejects.toThrow(ArgumentError);
    await expect(InferenceSession.create(big.buffer, 120, bytes.length)).rejects.toThrow(/^create\(buffer, byteOffset 120, byteLength \d+\): give an ArrayBuffer and a slice within it$/);
    await expect(InferenceSession.create(bytes as unknown as ArrayBuffer, 0, 10)).rejects.toThrow(/give an ArrayBuffer and a slice within it/);
  });

  it('an array with a string or null (a JSON body) is refused, not turned into NaN or 0', () => {
    expect(() => new Tensor('float32', [1, 'a' as unknown as number, 3], [3])).toThrow("Tensor data[1] is a string; float32 tensors take numbers");
    expect(() => new Tensor('float32', [null as unknown as number, 2], [2])).toThrow("Tensor data[0] is null; float32 tensors take numbers");
    expect(Array.from(new Tensor('float32', [1, 2.5, -3], [3]).data)).toEqual([1, 2.5, -3]);
    expect(new Tensor('float32', [1], [1]).location).toBe('cpu'); // as onnxruntime-web's
  });

  it('NaN and Infinity are not refused: they propagate as in onnxruntime and leave nothing behind', async () => {
    const s = await InferenceSession.create(CNN);
    const x = image(1, 7);
    const poisoned = Float32Array.from(x.data);
    poisoned[0] = NaN;
    poisoned[63] = Infinity;
    const bad = await s.run({ x: new Tensor('float32', poisoned, [1, 1, 8, 8]) });
    const ref = await reference(new Tensor('float32', poisoned, [1, 1, 8, 8]));
    // onnxruntime gives NaN in the same places (every output reads every pixel through the Gemm)
    expect(Array.from(bad.y.data, Number.isNaN)).toEqual(Array.from(ref, Number.isNaN));
    expect(bad.y.data.some(Number.isNaN)).toBe(true);
    // the next run, on the same arena, is bit-identical to a fresh session's
    const after = await s.run({ x });
    const fresh = await (await InferenceSession.create(CNN)).run({ x });
    expect(after.y.data).toEqual(fresh.y.data);
    expectClose(after.y.data, await reference(x), 'after NaN');
  });
});

describe('feeds whose dims do not fit the layers: InputError naming the dims, the session unharmed', () => {
  it('a 0-wide and a 1-wide image on a conv with free height and width', async () => {
    const model = buildModel({
      nodes: [
        { op: 'Conv', inputs: ['img', 'w'], outputs: ['c'], attrs: { kernel_shape: [3, 3] } },
        { op: 'MaxPool', inputs: ['c'], outputs: ['y'], attrs: { kernel_shape: [2, 2], strides: [2, 2] } },
      ],
      inputs: [{ name: 'img', dims: [1, 1, 'H', 'W'] }],
      outputs: ['y'],
      initializers: [{ name: 'w', dims: [2, 1, 3, 3], data: randomArray(18, 8) }],
    });
    const s = await InferenceSession.create(model);
    const feed = (h: number, w: number) => ({ img: new Tensor('float32', randomArray(h * w, 9), [1, 1, h, w]) });
    const zero = await rejection(s.run(feed(6, 0)));
    expect(zero).toBeInstanceOf(InputError);
    expect(zero.message).toMatch(/^input dims img: \[1, 1, 6, 0\] do not fit the model: node '.*' \(Conv\): .*; feed dims its layers accept$/);
    const narrow = await rejection(s.run(feed(6, 3)));
    expect(narrow).toBeInstanceOf(InputError);
    expect(narrow.message).toMatch(/^input dims img: \[1, 1, 6, 3\] do not fit the model: .*Pool.*; feed dims its layers accept$/);
    expect((await s.run(feed(6, 6))).y.dims).toEqual([1, 2, 2, 2]);
  });
});

describe('concurrent run() calls are serialized', () => {
  it('12 runs started together, with different inputs and batch sizes, each get their own correct outputs', async () => {
    const s = await InferenceSession.create(CNN);
    const batches = [1, 3, 1, 2, 4, 1, 3, 2, 1, 4, 2, 1];
    const feeds = batches.map((n, i) => image(n, 100 + i));
    const outs = await Promise.all(feeds.map((x) => s.run({ x })));
    for (let i = 0; i < feeds.length; i++) {
      expect([...outs[i].y.dims]).toEqual([batches[i], 5]);
      expectClose(outs[i].y.data, await reference(feeds[i]), `run ${i} (batch ${batches[i]})`);
    }
    // outputs are copies: a later run does not change an earlier result
    const first = Float32Array.from(outs[0].y.data);
    await s.run({ x: image(1, 999) });
    expect(outs[0].y.data).toEqual(first);
    // and each equals what the same session gives one at a time, bit for bit
    for (let i = 0; i < feeds.length; i++) expect((await s.run({ x: feeds[i] })).y.data).toEqual(outs[i].y.data);
  });

  it('a bad feed among concurrent runs rejects only its own call', async () => {
    const s = await InferenceSession.create(CNN);
    const results = await Promise.allSettled([s.run({ x: image(1, 1) }), s.run({}), s.run({ x: image(2, 2) })]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason).toBeInstanceOf(InputError);
    expectClose((results[2] as PromiseFulfilledResult<Record<string, Tensor>>).value.y.data, await reference(image(2, 2)), 'third run');
  });
});

describe('release()', () => {
  it('run(), info() and kernels after release() throw SessionReleasedError; release() twice is fine', async () => {
    const s = await InferenceSession.create(CNN);
    await s.run({ x: image(1, 1) });
    await s.release();
    await s.release();
    const message = 'this session was released; create a new one with InferenceSession.create';
    const e = await rejection(s.run({ x: image(1, 1) }));
    expect(e).toBeInstanceOf(SessionReleasedError);
    expect(e.message).toBe(message);
    expect(() => s.info()).toThrow(SessionReleasedError);
    expect(() => s.kernels).toThrow(message);
    expect([...s.inputNames, ...s.outputNames]).toEqual(['x', 'y']);
  });

  it('a run started before release() completes (it is synchronous); one started after is refused', async () => {
    const s = await InferenceSession.create(CNN);
    const before = s.run({ x: image(1, 3) });
    const released = s.release();
    const after = rejection(s.run({ x: image(1, 3) }));
    expectClose((await before).y.data, await reference(image(1, 3)), 'run before release');
    await released;
    expect(await after).toBeInstanceOf(SessionReleasedError);
  });
});

describe('memoryBudget', () => {
  it('is checked at create: weights that do not fit', async () => {
    // 2 x 1024x1024 Gemm weights (8 MiB) under a 4 MiB budget
    const big = buildModel({
      nodes: [
        { op: 'Gemm', inputs: ['x', 'w1'], outputs: ['h'], attrs: { transB: 1 } },
        { op: 'Gemm', inputs: ['h', 'w2'], outputs: ['y'], attrs: { transB: 1 } },
      ],
      inputs: [{ name: 'x', dims: [1, 1024] }],
      outputs: ['y'],
      initializers: [
        { name: 'w1', dims: [1024, 1024], data: randomArray(1 << 20, 1) },
        { name: 'w2', dims: [1024, 1024], data: randomArray(1 << 20, 2) },
      ],
    });
    const e = (await rejection(InferenceSession.create(big, { memoryBudget: 4 << 20 }))) as OutOfMemoryError;
    expect(e).toBeInstanceOf(OutOfMemoryError);
    expect(e.message).toMatch(/^at input dims x: \[1, 1024\] the session needs more than \d+ bytes \([\d.]+ MiB\) of wasm memory while packing weights and tables, over its memoryBudget of 4194304 bytes \(4\.0 MiB\); use a smaller batch or smaller input dims, a pruned model, or a larger memoryBudget$/);
    expect(e.neededBytes).toBeGreaterThan(4 << 20);
    expect(e.limitBytes).toBe(4 << 20);
    // with room, the same model loads and its wasm memory stays within the budget
    const s = await InferenceSession.create(big, { memoryBudget: 16 << 20 });
    expect(wasmBytes(s)).toBeLessThanOrEqual(16 << 20);
    expect(s.info().weightBytes).toBeGreaterThanOrEqual(8 << 20);
  });

  // a batch whose largest tensor (the conv output, 1 KiB per image) is 80% of the budget: it fits
  // alone, but not with the input and the rest of the plan
  const tooBig = (budget: number) => Math.floor((0.8 * budget) / 1024);

  it('is checked at create: an activation arena that does not fit', async () => {
    const s = await InferenceSession.create(CNN, { freeDimensionOverrides: { N: 1 } });
    const budget = 2 * wasmBytes(s);
    const N = tooBig(budget);
    const e = (await rejection(InferenceSession.create(CNN, { freeDimensionOverrides: { N }, memoryBudget: budget }))) as OutOfMemoryError;
    expect(e).toBeInstanceOf(OutOfMemoryError);
    expect(e.message).toMatch(/^at input dims x: \[\d+, 1, 8, 8\] the session needs (at least )?\d+ bytes \([\d.]+ MiB\) of wasm memory \(\d+ bytes \([\d.]+ MiB\) for activations, the rest for weights, tables and static data\), over its memoryBudget of \d+ bytes/);
    expect(e.message).toMatch(/use a smaller batch or smaller input dims, a pruned model, or a larger memoryBudget$/);
  });

  it('is checked at a re-plan for a bigger batch, before memory grows; the session keeps its plan', async () => {
    const probe = await InferenceSession.create(CNN);
    const budget = wasmBytes(probe) + (1 << 20); // room for batch 1 and a little more
    const s = await InferenceSession.create(CNN, { memoryBudget: budget });
    const one = await s.run({ x: image(1, 1) });
    const grown = wasmBytes(s);
    const N = tooBig(budget);
    const e = (await rejection(s.run({ x: image(N, 2) }))) as OutOfMemoryError;
    expect(e).toBeInstanceOf(OutOfMemoryError);
    expect(e.message).toContain(`at input dims x: [${N}, 1, 8, 8] the session needs`);
    expect(e.message).toContain(`over its memoryBudget of ${budget} bytes`);
    expect(e.neededBytes).toBeGreaterThan(budget);
    expect(wasmBytes(s)).toBe(grown); // memory did not grow
    // the session still runs, at the old dims and at new ones that fit
    expect((await s.run({ x: image(1, 1) })).y.data).toEqual(one.y.data);
    expectClose((await s.run({ x: image(8, 3) })).y.data, await reference(image(8, 3)), 'batch 8 after the refusal');
    expect(wasmBytes(s)).toBeLessThanOrEqual(budget);
  });

  it('a single tensor over the budget is refused before any table is built for it', async () => {
    const s = await InferenceSession.create(CNN, { memoryBudget: 8 << 20 });
    const e = await rejection(s.run({ x: new Tensor('float32', new Float32Array(40000 * 64), [40000, 1, 8, 8]) }));
    expect(e).toBeInstanceOf(OutOfMemoryError);
    expect(e.message).toMatch(/^at input dims x: \[40000, 1, 8, 8\], tensor '\w+' \[40000, 4, 8, 8\] alone needs 40960000 bytes \(39\.1 MiB\), over the session's memoryBudget of 8388608 bytes \(8\.0 MiB\)/);
  });

  it('bad values are an ArgumentError; so are bad freeDimensionOverrides', async () => {
    for (const memoryBudget of [0, -1, NaN, '1GB']) {
      const e = await rejection(InferenceSession.create(CNN, { memoryBudget: memoryBudget as number }));
      expect(e).toBeInstanceOf(ArgumentError);
      expect(e.message).toContain('memoryBudget is');
    }
    const e = await rejection(InferenceSession.create(CNN, { freeDimensionOverrides: { N: 1.5 } }));
    expect(e).toBeInstanceOf(ArgumentError);
    expect(e.message).toBe('freeDimensionOverrides.N is 1.5; give a non-negative integer');
    // a name no input has is ignored, as onnxruntime does (one options object serves several models;
    // the CLI, where a name is typed by hand, checks its --dim names)
    const other = await InferenceSession.create(CNN, { freeDimensionOverrides: { H: 4 } });
    expect(other.info().inputs[0].plannedDims[0]).toBe(1);
  });
});

describe('re-plans for new dims', () => {
  it('a constant folded from the input dims is uploaded per plan, not reused from the first one', async () => {
    // y = x + arange(N) as a column: the folded Range changes value (and size) with the batch
    const i64 = (v: number[]) => BigInt64Array.from(v.map(BigInt));
    const model = buildModel({
      nodes: [
        { op: 'Shape', inputs: ['x'], outputs: ['s'] },
        { op: 'Gather', inputs: ['s', 'zero'], outputs: ['n'], attrs: { axis: 0 } },
        { op: 'Range', inputs: ['zero', 'n', 'one'], outputs: ['r'] },
        { op: 'Cast', inputs: ['r'], outputs: ['rf'], attrs: { to: 1 } },
        { op: 'Unsqueeze', inputs: ['rf', 'axes'], outputs: ['c'] },
        { op: 'Add', inputs: ['x', 'c'], outputs: ['y'] },
      ],
      inputs: [{ name: 'x', dims: ['N', 2] }],
      outputs: ['y'],
      initializers: [{ name: 'zero', dims: [], data: i64([0]) }, { name: 'one', dims: [], data: i64([1]) }, { name: 'axes', dims: [1], data: i64([1]) }],
    });
    const s = await InferenceSession.create(model);
    for (const n of [1, 3, 2, 5, 1, 3]) {
      const y = await s.run({ x: new Tensor('float32', new Float32Array(2 * n).fill(0.5), [n, 2]) });
      expect(Array.from(y.y.data)).toEqual(Array.from({ length: 2 * n }, (_, i) => 0.5 + Math.floor(i / 2)));
    }
  });
});

describe("run(feeds, fetches, options) as onnxruntime-web takes it", () => {
  // two outputs: the Gemm logits 'y' and the pooled features 'p'
  const TWO = smallCnn(['y', 'p']);

  it('returns just the fetched outputs (a list or an object keyed by name), each what onnxruntime-node computes', async () => {
    const s = await InferenceSession.create(TWO);
    const x = image(2, 7);
    const o = await ort.InferenceSession.create(TWO, { logSeverityLevel: 3 });
    const ref = await o.run({ x: new ort.Tensor('float32', x.data, [...x.dims]) });
    const byList = await s.run({ x }, ['p']);
    expect(Object.keys(byList)).toEqual(['p']);
    expectClose(byList.p.data, ref.p.data as Float32Array, 'p');
    const byObject = await s.run({ x }, { y: null });
    expect(Object.keys(byObject)).toEqual(['y']);
    expectClose(byObject.y.data, ref.y.data as Float32Array, 'y');
    // an object naming no output is run options (onnxruntime's rule): every output comes back
    const withOptions = await s.run({ x }, { logSeverityLevel: 3 });
    expect(Object.keys(withOptions).sort()).toEqual(['p', 'y']);
    expect(Object.keys(await s.run({ x }, ['y'], { tag: 'a' }))).toEqual(['y']);
  });

  it('an unknown or empty fetch list is an InputError naming the outputs', async () => {
    const s = await InferenceSession.create(TWO);
    const unknown = await rejection(s.run({ x: image(1, 1) }, ['y', 'logits']));
    expect(unknown).toBeInstanceOf(InputError);
    expect(unknown.message).toBe("unknown output 'logits' in fetches; the model's outputs are 'y', 'p'");
    const empty = await rejection(s.run({ x: image(1, 1) }, []));
    expect(empty).toBeInstanceOf(InputError);
    expect(empty.message).toMatch(/fetches is an empty list; name the outputs to return \('y', 'p'\)/);
    const mixed = await rejection(s.run({ x: image(1, 1) }, { y: null, z: null }));
    expect(mixed.message).toBe("unknown output 'z' in fetches; the model's outputs are 'y', 'p'");
  });

  it("Tensor.reshape shares the data under new dims, getData() and dispose() are there as in onnxruntime-web", async () => {
    const t = new Tensor('float32', new Float32Array([1, 2, 3, 4, 5, 6]), [2, 3]);
    const r = t.reshape([3, 2]);
    expect([...r.dims]).toEqual([3, 2]);
    expect(r.data).toBe(t.data);
    expect(() => t.reshape([4, 2])).toThrow(InputError);
    expect(await t.getData()).toBe(t.data);
    expect(t.dispose()).toBeUndefined();
  });
});
