// edgeprune/runtime is built with globalThis.EDGEPRUNE_RUNTIME defined (scripts/build-dist.mjs), so
// the kernels' re-checks of what the runtime's ops, planner and .epm decoder have already checked
// are compiled out of it (src/kernels/check.ts). The sources read the same flag at run time:
// setting it here runs them as that bundle does. On the .epm fuzz seeds and on mutants of them
// (hostile files: odd attributes, dims, tensors), every outcome must be the one the checked code
// gives: the same outputs, bit for bit, or the same typed error with the same message.
import { afterAll, describe, expect, it } from 'vitest';
import { InferenceSession } from '../src/runtime/session.js';
import { Tensor } from '../src/runtime/tensor.js';
import { importOnnx } from '../src/onnx/import.js';
import { writeArtifact } from '../src/format/write.js';
import { makeCase } from './fuzz/cases.js';
import { seedCorpus } from './fuzz/corpus.js';
import { buildModel, type ModelSpec, type NodeSpec } from './util/onnx-build.js';

const SEED = 20_260_101;
/** Cases drawn (about a third are .epm mutants; the rest are skipped here): a few seconds. */
const CASES = 1500;

const flag = globalThis as { EDGEPRUNE_RUNTIME?: true };

/** What creating a session and running it once gives: the outputs, or the error that stopped it. */
async function outcome(bytes: Uint8Array, lean: boolean): Promise<string> {
  if (lean) flag.EDGEPRUNE_RUNTIME = true;
  else delete flag.EDGEPRUNE_RUNTIME;
  let session: InferenceSession | undefined;
  try {
    session = await InferenceSession.create(bytes, { wasm: 'simd' });
    let dims: number[][];
    try {
      dims = session.info().inputs.map((i) => i.plannedDims);
    } catch {
      dims = session.inputNames.map(() => [1]);
    }
    const feeds: Record<string, Tensor> = {};
    for (const [i, name] of session.inputNames.entries()) {
      const n = dims[i].reduce((a, b) => a * b, 1);
      if (n > 2 ** 24) return 'input too large to run';
      feeds[name] = new Tensor('float32', Float32Array.from({ length: n }, (_, k) => ((k * 37) % 17) / 8 - 1), dims[i]);
    }
    const out = await session.run(feeds);
    return JSON.stringify(Object.entries(out).map(([name, t]) => [name, t.dims, Array.from(new Uint32Array(t.data.buffer, t.data.byteOffset, t.data.length))]));
  } catch (e) {
    return e instanceof Error ? `${e.constructor.name}: ${e.message}` : `thrown ${String(e)}`;
  } finally {
    await session?.release();
    delete flag.EDGEPRUNE_RUNTIME;
  }
}

const f32 = (n: number, v = 0.5) => new Float32Array(n).fill(v);
/** One node over x [1, 4, 6, 6] with the given constant inputs. */
function model(node: NodeSpec, inits: { name: string; dims: number[]; data?: Float32Array }[] = [], opset = 13, x = [1, 4, 6, 6]): ModelSpec {
  return {
    nodes: [node],
    inputs: [{ name: 'x', dims: x }],
    outputs: [node.outputs[0]],
    initializers: inits.map((t) => ({ name: t.name, dims: t.dims, data: t.data ?? f32(t.dims.reduce((a, b) => a * b, 1)) })),
    opset,
  };
}
const conv = (attrs: NodeSpec['attrs'], w = [4, 4, 3, 3], b?: number[]) =>
  model({ op: 'Conv', inputs: b ? ['x', 'w', 'b'] : ['x', 'w'], outputs: ['y'], attrs }, [{ name: 'w', dims: w }, ...(b ? [{ name: 'b', dims: b }] : [])]);
const convThen = (op: string, attrs: NodeSpec['attrs'], extra: string[] = [], inits: { name: string; dims: number[]; data: Float32Array }[] = []): ModelSpec => ({
  ...conv({}),
  nodes: [{ op: 'Conv', inputs: ['x', 'w'], outputs: ['c'] }, { op, inputs: ['c', ...extra], outputs: ['y'], attrs }],
  initializers: [{ name: 'w', dims: [4, 4, 3, 3], data: f32(144) }, ...inits],
});

/**
 * Models whose flaw only a kernel's own check catches (a value the model supplies), or that the
 * ops catch before a kernel would: each must fail, and fail alike with and without the re-checks.
 */
const FLAWED: [string, ModelSpec][] = [
  ['Conv bias of the wrong length', conv({}, [4, 4, 3, 3], [3])],
  ['Conv output channels that do not split into the groups', conv({ group: 2 }, [5, 2, 3, 3])],
  ['Conv weights with an empty dimension', conv({}, [0, 4, 3, 3])],
  ['Conv strides of three values', conv({ strides: [1, 1, 1] })],
  ['Conv stride 0', conv({ strides: [0, 1] })],
  ['Conv negative pads', conv({ pads: [-1, 0, 0, 0] })],
  ['Conv dilation 0', conv({ dilations: [0, 1] })],
  ['Conv kernel larger than the input', conv({}, [4, 4, 7, 7])],
  ['Conv + LeakyRelu with alpha NaN (fused)', convThen('LeakyRelu', { alpha: { float: NaN } })],
  ['Conv + Clip with min > max (fused)', convThen('Clip', {}, ['lo', 'hi'], [{ name: 'lo', dims: [], data: f32(1, 1) }, { name: 'hi', dims: [], data: f32(1, 0) }])],
  ['ConvTranspose output padding past the stride', model({ op: 'ConvTranspose', inputs: ['x', 'w'], outputs: ['y'], attrs: { output_padding: [3, 3] } }, [{ name: 'w', dims: [4, 2, 3, 3] }])],
  ['ConvTranspose bias of the wrong length', model({ op: 'ConvTranspose', inputs: ['x', 'w', 'b'], outputs: ['y'] }, [{ name: 'w', dims: [4, 2, 3, 3] }, { name: 'b', dims: [5] }])],
  ['ConvTranspose input channels that do not split into the groups', model({ op: 'ConvTranspose', inputs: ['x', 'w'], outputs: ['y'], attrs: { group: 3 } }, [{ name: 'w', dims: [4, 2, 3, 3] }])],
  ['Gemm over an empty inner dimension', model({ op: 'Gemm', inputs: ['x', 'w'], outputs: ['y'] }, [{ name: 'w', dims: [0, 3] }], 13, [2, 0])],
  ['AveragePool with dilations', model({ op: 'AveragePool', inputs: ['x'], outputs: ['y'], attrs: { kernel_shape: [2, 2], dilations: [2, 2] } }, [], 19)],
  ['LayerNormalization with epsilon NaN', model({ op: 'LayerNormalization', inputs: ['x', 's'], outputs: ['y'], attrs: { epsilon: { float: NaN } } }, [{ name: 's', dims: [6] }], 17)],
  ['BatchNormalization with three scales for four channels', model({ op: 'BatchNormalization', inputs: ['x', 's', 'b', 'm', 'v'], outputs: ['y'] }, [{ name: 's', dims: [3] }, { name: 'b', dims: [4] }, { name: 'm', dims: [4] }, { name: 'v', dims: [4] }])],
  ['Softmax over an axis the input lacks', model({ op: 'Softmax', inputs: ['x'], outputs: ['y'], attrs: { axis: 5 } })],
  ['LeakyRelu with alpha Infinity', model({ op: 'LeakyRelu', inputs: ['x'], outputs: ['y'], attrs: { alpha: { float: Infinity } } })],
  ['Clip with min > max', model({ op: 'Clip', inputs: ['x', 'lo', 'hi'], outputs: ['y'] }, [{ name: 'lo', dims: [], data: f32(1, 1) }, { name: 'hi', dims: [], data: f32(1, 0) }])],
  ['MatMul over batches that do not broadcast', model({ op: 'MatMul', inputs: ['x', 'w'], outputs: ['y'] }, [{ name: 'w', dims: [3, 6, 2] }])],
];

describe('the runtime bundle\'s kernels without their re-checks (EDGEPRUNE_RUNTIME)', () => {
  afterAll(() => {
    delete flag.EDGEPRUNE_RUNTIME;
  });

  it('the flag is what the kernels read: a re-check runs without it and is skipped with it', async () => {
    const { PackedLinear } = await import('../src/kernels/gemm.js');
    const { loadKernels } = await import('../src/wasm/loader.js');
    const k = await loadKernels('simd');
    const lin = new PackedLinear(k, new Float32Array(4), 2, 2);
    const bad = k.allocF32(16) + 60; // one float left in its block where a 1 x 2 input needs two
    expect(() => lin.run(bad, 1, bad)).toThrow(/Linear input: buffer holds/);
    flag.EDGEPRUNE_RUNTIME = true;
    try {
      expect(() => lin.run(bad, 1, bad)).not.toThrow();
    } finally {
      delete flag.EDGEPRUNE_RUNTIME;
    }
  });

  it.each(FLAWED)('%s: the same typed error with and without the re-checks', async (_, spec) => {
    const bytes = writeArtifact(importOnnx(buildModel(spec)));
    const checked = await outcome(bytes, false);
    expect(checked).toMatch(/^(ShapeError|ArgumentError|ModelFormatError|UnsupportedOpError|OutOfMemoryError): /);
    expect(await outcome(bytes, true)).toBe(checked);
  });

  it('every .epm seed and mutant ends the same with and without the re-checks', async () => {
    const corpus = seedCorpus();
    const files = corpus.filter((s) => s.kind === 'epm').map((s) => ({ name: s.name, bytes: s.bytes }));
    for (let i = 0; i < CASES; i++) {
      const c = makeCase(SEED, i, corpus);
      if (c.kind === 'epm') files.push({ name: `case ${i}: ${c.desc.slice(0, 100)}`, bytes: c.bytes });
    }
    const kinds = { ran: 0, failed: 0 };
    for (const f of files) {
      const checked = await outcome(f.bytes, false);
      expect(await outcome(f.bytes, true), f.name).toBe(checked);
      kinds[checked.startsWith('[') ? 'ran' : 'failed']++;
    }
    // both kinds of outcome were compared, in numbers that mean something
    expect(kinds.ran).toBeGreaterThan(20);
    expect(kinds.failed).toBeGreaterThan(20);
  }, 300_000);
});
