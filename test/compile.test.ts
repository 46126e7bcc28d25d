// Compiled models (src/compile/, `edgeprune compile`) run by edgeprune/runtime (src/runtime-compiled/)
// against the full runtime on the .onnx / .epm they were compiled from: bit-identical with the
// build they were compiled with, within 1e-5 on the other. Models: PaddleOCR's pretrained
// classifier, v4 recogniser (attention) and detector (ConvTranspose upsampling), the MobileNet-style
// blocks and the pruned CNN the runtime suites load (sparse kernels). Then what must be refused.
import { describe, expect, it } from 'vitest';
import binaryen from 'binaryen';
import { readFileSync } from 'node:fs';
import { compileModel } from '../src/compile/compile.js';
import { InferenceSession as Compiled } from '../src/runtime-compiled/session.js';
import { InferenceSession, Tensor } from '../src/index.js';
import { CompileError, InputError, ModelFormatError, OutOfMemoryError, SessionReleasedError, WasmLoadError, ArgumentError } from '../src/errors.js';
import { crc32 } from '../src/format/crc32.js';
import { mobileNetBlocks, overridesFor, ppocrClassifier, ppocrDetector, ppocrRecognizer, type BenchModel } from '../bench/model-zoo.js';
import { buildModel } from './util/onnx-build.js';
import { prunedModel, ROOT } from './util/runtimes.js';

const input = (dims: number[], seed: number) => new Tensor('float32', Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, (_, i) => Math.sin(i * 0.37 + seed)), dims);

async function compareWithFull(bytes: Uint8Array, name: string, dims: number[], kernels?: 'slim'): Promise<Uint8Array> {
  const freeDimensionOverrides = await overridesFor(bytes, dims);
  const compiled = await compileModel(bytes, { freeDimensionOverrides, kernels });
  for (const wasm of ['simd', 'relaxed'] as const) {
    const tiny = await Compiled.create(compiled, { wasm });
    const full = await InferenceSession.create(bytes, { wasm, freeDimensionOverrides, kernels });
    for (const seed of [0, 1]) {
      const x = input(dims, seed);
      const [a, b] = [await tiny.run({ [name]: x }), await full.run({ [name]: x })];
      expect(Object.keys(a)).toEqual(Object.keys(b));
      for (const k of Object.keys(b)) {
        if (wasm === 'simd') expect(new Uint32Array(a[k].data.buffer), `${k} (simd)`).toEqual(new Uint32Array(b[k].data.buffer));
        else a[k].data.forEach((v, i) => expect(Math.abs(v - b[k].data[i]), `${k}[${i}] (relaxed)`).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(b[k].data[i]))));
      }
    }
    expect(tiny.info()).toMatchObject({ compiled: true, kernels: wasm, params: full.info().params, plannedPeakBytes: full.info().plannedPeakBytes });
    await tiny.release();
    await full.release();
  }
  return compiled;
}

describe('compiled models run as the full runtime runs their source', () => {
  it.each([ppocrClassifier, ppocrRecognizer, ppocrDetector, mobileNetBlocks] as (() => BenchModel)[])('%o', async (make) => {
    const m = make();
    const compiled = await compareWithFull(m.bytes, m.input.name, m.input.dims);
    // weights are stored once, packed: the compiled file stays within 1.3x the ONNX
    expect(compiled.byteLength).toBeLessThan(1.3 * m.bytes.byteLength);
  }, 120_000);

  it('the pruned CNN (sparse kernels, 80% zeros) from its .epm', async () => {
    await compareWithFull(await prunedModel(), 'x', [1, 1, 28, 28]);
  }, 60_000);

  it('a conv with dead output channels on the slimmed kernel (kept channels scattered, dead ones filled)', async () => {
    const w = Float32Array.from({ length: 8 * 3 * 9 }, (_, i) => ([1, 4, 6].includes(Math.floor(i / 27)) ? 0 : Math.sin(i)));
    const bytes = buildModel({
      nodes: [{ op: 'Conv', inputs: ['x', 'w', 'b'], outputs: ['c'], attrs: { pads: [1, 1, 1, 1] } }, { op: 'Relu', inputs: ['c'], outputs: ['y'] }],
      inputs: [{ name: 'x', dims: [1, 3, 10, 12] }],
      outputs: ['y'],
      initializers: [{ name: 'w', dims: [8, 3, 3, 3], data: w }, { name: 'b', dims: [8], data: Float32Array.from({ length: 8 }, (_, i) => i / 10 - 0.3) }],
    });
    expect((await InferenceSession.create(bytes, { kernels: 'slim' })).info().nodes[0].kernel).toMatch(/slim/);
    await compareWithFull(bytes, 'x', [1, 3, 10, 12], 'slim');
  });
});

describe('what compile refuses', () => {
  const gatherModel = buildModel({
    nodes: [{ op: 'Gather', inputs: ['table', 'ids'], outputs: ['y'], attrs: { axis: 0 } }],
    inputs: [{ name: 'ids', dims: [3] }],
    initializers: [{ name: 'table', dims: [5, 2], data: Float32Array.from({ length: 10 }, (_, i) => i) }],
    outputs: ['y'],
  });

  it('a model whose run reads input values on the host (Gather with run-time indices): CompileError', async () => {
    await expect(compileModel(gatherModel)).rejects.toThrow(CompileError);
    await expect(compileModel(gatherModel)).rejects.toThrow(/cannot be compiled.*edgeprune\/runtime\/dynamic/);
  });

  it('symbolic dims past the batch axis left out, or a name that is no dim: ArgumentError saying which', async () => {
    const cls = ppocrClassifier().bytes;
    await expect(compileModel(cls)).rejects.toThrow(/give the symbolic dims p2o\.DynamicDimension\.1, p2o\.DynamicDimension\.2 their sizes/);
    await expect(compileModel(cls, { freeDimensionOverrides: { height: 48 } })).rejects.toThrow(ArgumentError);
  }, 30_000);
});

describe('edgeprune/runtime refuses what it cannot run, with typed errors', () => {
  let compiled: Uint8Array;
  const get = async () => (compiled ??= await compileModel(await prunedModel()));
  const refreshCrc = (b: Uint8Array) => {
    new DataView(b.buffer, b.byteOffset).setUint32(20, crc32(b.subarray(32)), true);
    return b;
  };

  it('ONNX bytes and a plain .epm: ModelFormatError saying to compile', async () => {
    const onnx = buildModel({ nodes: [{ op: 'Relu', inputs: ['x'], outputs: ['y'] }], inputs: [{ name: 'x', dims: [1, 4] }], outputs: ['y'] });
    await expect(Compiled.create(onnx, { wasm: 'simd' })).rejects.toThrow(/not a compiled model.*edgeprune compile/);
    await expect(Compiled.create(await prunedModel(), { wasm: 'simd' })).rejects.toThrow(ModelFormatError);
    await expect(Compiled.create(await prunedModel(), { wasm: 'simd' })).rejects.toThrow(/a model artifact, not a compiled model.*edgeprune compile/);
    // and the other way round: the full runtime names edgeprune/runtime
    await expect(InferenceSession.create(await get(), { wasm: 'simd' })).rejects.toThrow(/compiled model.*edgeprune\/runtime/);
  });

  it('truncated, bit-flipped, or with sections that lie: ModelFormatError', async () => {
    const c = await get();
    for (const n of [0, 10, 40, c.length - 1]) await expect(Compiled.create(c.slice(0, n), { wasm: 'simd' })).rejects.toThrow(ModelFormatError);
    const flipped = c.slice();
    flipped[c.length >> 1] ^= 0x10;
    await expect(Compiled.create(flipped, { wasm: 'simd' })).rejects.toThrow(/checksum mismatch/);
    // the plan's JSON edited (CRC refreshed): an input pointer past the memory
    const text = new TextDecoder().decode(c);
    const at = text.indexOf('"memoryBytes":');
    const lying = c.slice();
    lying.set(new TextEncoder().encode('"memoryBytes":65536,'.padEnd(text.indexOf(',', at) - at + 1, ' ')), at);
    await expect(Compiled.create(refreshCrc(lying), { wasm: 'simd' })).rejects.toThrow(/lies outside the 65536-byte memory|malformed compiled model/);
  });

  it('altered after its checksum (300 mutations, the CRC rewritten): a typed error or outputs of the right dims, never a crash or a hang', async () => {
    const c = await get();
    const { EdgepruneError } = await import('../src/errors.js');
    let seed = 7;
    const rand = (n: number) => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) % n);
    const outcomes = { ran: 0, refused: 0 };
    const t0 = performance.now();
    // half the cases anywhere past the header (mostly the image: weights), half in the calls section
    const v = new DataView(c.buffer, c.byteOffset);
    const calls = [0, 1, 2].map((i) => 32 + 16 * i).find((at) => v.getUint32(at, true) === 8)!;
    const [callsAt, callsLength] = [v.getUint32(calls + 4, true), v.getUint32(calls + 8, true)];
    for (let i = 0; i < 300; i++) {
      const m = c.slice();
      for (let j = 0, n = 1 + rand(4); j < n; j++) m[i % 2 ? callsAt + rand(callsLength) : 32 + rand(m.length - 32)] = rand(256);
      try {
        const s = await Compiled.create(refreshCrc(m), { wasm: 'simd' });
        const out = await s.run({ [s.inputNames[0]]: input(s.inputMetadata[0].shape as number[], i) });
        expect(Object.values(out).every((t) => t.data.length === t.dims.reduce((a, b) => a * b, 1))).toBe(true);
        outcomes.ran++;
      } catch (e) {
        expect(e, String(e)).toBeInstanceOf(EdgepruneError);
        outcomes.refused++;
      }
    }
    console.log(`altered compiled models: ${outcomes.ran} ran, ${outcomes.refused} refused with typed errors, ${((performance.now() - t0) / 300).toFixed(1)} ms a case`);
  }, 60_000);

  it('kernels of another build: WasmLoadError naming both builds', async () => {
    const m = binaryen.readBinary(readFileSync(`${ROOT}/wasm/simd.wasm`));
    m.setFeatures(binaryen.Features.All);
    m.removeExport('build_id');
    const other = m.emitBinary();
    m.dispose();
    await expect(Compiled.create(await get(), { wasm: other })).rejects.toThrow(WasmLoadError);
    await expect(Compiled.create(await get(), { wasm: other })).rejects.toThrow(/compiled for kernel build -?\d+, these kernels are build 0/);
    const notOurs = binaryen.parseText('(module (func (export "f")))');
    const bytes = notOurs.emitBinary();
    notOurs.dispose();
    await expect(Compiled.create(await get(), { wasm: bytes })).rejects.toThrow(/not an edgeprune kernel build/);
    await expect(Compiled.create(await get(), { wasm: new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>) })).rejects.toThrow(WasmLoadError);
  });

  it('feeds of other dims, missing or extra: InputError; a budget under its memory: OutOfMemoryError; after release: SessionReleasedError', async () => {
    const padded = new Uint8Array((await get()).length + 8);
    padded.set(await get(), 8);
    const s = await Compiled.create(padded.buffer, 8, padded.length - 8, { wasm: 'simd' }); // onnxruntime-web's form
    expect(s.inputNames).toEqual(['x']);
    expect(s.inputMetadata[0].shape).toEqual([1, 1, 28, 28]);
    await expect(s.run({ x: new Tensor('float32', new Float32Array(2 * 784), [2, 1, 28, 28]) })).rejects.toThrow(/expects \[1, 1, 28, 28\]: it was compiled for those dims/);
    await expect(s.run({})).rejects.toThrow(InputError);
    await expect(s.run({ x: input([1, 1, 28, 28], 0), y: input([1], 0) })).rejects.toThrow(/unknown input 'y'/);
    const out = await s.run({ x: input([1, 1, 28, 28], 0) }, ['logits']);
    expect(out.logits.dims).toEqual([1, 10]);
    await s.release();
    await expect(s.run({ x: input([1, 1, 28, 28], 0) })).rejects.toThrow(SessionReleasedError);
    await expect(Compiled.create(await get(), { wasm: 'simd', memoryBudget: 65536 })).rejects.toThrow(OutOfMemoryError);
  });
});
