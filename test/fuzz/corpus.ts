// The fuzzer's seed corpus: real files of each kind the loaders read, made by the project's own
// writers (and onnx-proto for ONNX) or shipped in npm packages. Every seed is checked to load and
// run unmutated (test/fuzz.test.ts), so mutations start from files that reach deep into each loader.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeArtifact } from '../../src/format/write.js';
import type { ConstTensor, Graph } from '../../src/graph/ir.js';
import { quantizeGraph } from '../../src/graph/quant.js';
import { writeNpy, type NpyDtype } from '../../src/io/npy.js';
import { importOnnx } from '../../src/onnx/import.js';
import { cnnOnnx, ifOnnx, mlpOnnx, ONNX_SEED_BUILDERS, weights } from './onnx-seeds.js';

export type FileKind = 'onnx' | 'epm' | 'npy';

export interface Seed {
  name: string;
  kind: FileKind;
  bytes: Uint8Array;
  /** How often the case generator picks this seed relative to the others of its kind. */
  weight: number;
}

/** The pretrained ONNX models openwakeword-js ships (≈300 kB MLP classifiers exported by PyTorch). */
export function pretrainedModels(): { name: string; bytes: Uint8Array }[] {
  const dir = join(process.cwd(), 'node_modules/openwakeword-js/models');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.onnx'))
    .sort()
    .map((f) => ({ name: `openwakeword/${f}`, bytes: new Uint8Array(readFileSync(join(dir, f))) }));
}

/** The same graph with a fraction of each float weight set to +0, so the writer picks sparse encodings. */
function sparsified(g: Graph, zeros: number): Graph {
  const initializers = new Map<string, ConstTensor>();
  let seed = 100;
  for (const [name, t] of g.initializers) {
    if (t.dtype !== 'float32' || t.data.length < 16) {
      initializers.set(name, t);
      continue;
    }
    const mask = weights(t.data.length, seed++, zeros);
    const data = (t.data as Float32Array).map((v, i) => (mask[i] === 0 ? 0 : v));
    initializers.set(name, { dtype: t.dtype, dims: t.dims, data });
  }
  return { ...g, initializers };
}

/** A graph whose tensors take every float encoding: raw, bitmask, delta16, index32 (far-apart non-zeros), and an all-zero one. */
function encodingsGraph(): Graph {
  const big = new Float32Array(70_000 * 2);
  big[3] = 1.5;
  big[big.length - 1] = -2; // a gap over 65535: only index32 holds it
  const t = (dims: number[], data: Float32Array): ConstTensor => ({ dtype: 'float32', dims, data });
  const half = weights(64, 41, 0.5);
  // every tensor is read by a node fed from a graph input, so the writer's simplification keeps it
  return {
    name: 'encodings',
    inputs: [
      { name: 'x', dtype: 'float32', dims: [1, 64] },
      { name: 'x2', dtype: 'float32', dims: [70_000, 2] },
    ],
    outputs: [
      { name: 'y', dtype: 'float32', dims: [1, 64] },
      { name: 'p', dtype: 'float32', dims: [70_000, 2] },
    ],
    nodes: [
      { name: 'mm', op: 'MatMul', domain: '', inputs: ['x', 'W'], outputs: ['m'], attrs: {} },
      { name: 'add', op: 'Add', domain: '', inputs: ['m', 'half'], outputs: ['a'], attrs: {} },
      { name: 'mz', op: 'MatMul', domain: '', inputs: ['a', 'zero'], outputs: ['z'], attrs: {} },
      { name: 'add2', op: 'Add', domain: '', inputs: ['a', 'z'], outputs: ['y'], attrs: {} },
      { name: 'mul', op: 'Mul', domain: '', inputs: ['x2', 'big'], outputs: ['p'], attrs: {} },
    ],
    initializers: new Map([
      ['W', t([64, 64], weights(64 * 64, 43, 0.97))],
      ['half', t([64], half)],
      ['big', t([70_000, 2], big)],
      ['zero', t([64, 64], new Float32Array(64 * 64))],
    ]),
    opset: 13,
    valueInfo: new Map(),
  };
}

function epmSeeds(pretrained: { name: string; bytes: Uint8Array }[]): Seed[] {
  const mlp = importOnnx(mlpOnnx());
  const cnn = importOnnx(cnnOnnx());
  const int8 = quantizeGraph(cnn, { minElements: 16 }).graph;
  const int8Sparse = quantizeGraph(sparsified(cnn, 0.8), { minElements: 16 }).graph;
  const seeds: Seed[] = [
    { name: 'epm/mlp-dense', kind: 'epm', bytes: writeArtifact(mlp), weight: 3 },
    { name: 'epm/cnn-sparse', kind: 'epm', bytes: writeArtifact(sparsified(cnn, 0.9)), weight: 3 },
    { name: 'epm/mlp-sparse', kind: 'epm', bytes: writeArtifact(sparsified(mlp, 0.6)), weight: 2 },
    { name: 'epm/cnn-int8', kind: 'epm', bytes: writeArtifact(int8), weight: 3 },
    { name: 'epm/cnn-int8-sparse', kind: 'epm', bytes: writeArtifact(int8Sparse), weight: 3 },
    { name: 'epm/if-subgraphs', kind: 'epm', bytes: writeArtifact(importOnnx(ifOnnx())), weight: 2 },
    { name: 'epm/every-encoding', kind: 'epm', bytes: writeArtifact(encodingsGraph()), weight: 2 },
  ];
  if (pretrained[0]) seeds.push({ name: `epm/${pretrained[0].name}`, kind: 'epm', bytes: writeArtifact(importOnnx(pretrained[0].bytes)), weight: 1 });
  return seeds;
}

function npySeeds(): Seed[] {
  const n = 12;
  const data: Record<NpyDtype, () => Parameters<typeof writeNpy>[2]> = {
    float32: () => weights(n, 51),
    float64: () => Float64Array.from(weights(n, 52)),
    int64: () => BigInt64Array.from({ length: n }, (_, i) => BigInt(i * 1000 - 5000)),
    int32: () => Int32Array.from({ length: n }, (_, i) => i * 7 - 40),
    uint8: () => Uint8Array.from({ length: n }, (_, i) => i * 20),
    int8: () => Int8Array.from({ length: n }, (_, i) => i * 10 - 60),
    bool: () => Uint8Array.from({ length: n }, (_, i) => i & 1),
  };
  const seeds: Seed[] = (Object.keys(data) as NpyDtype[]).map((d) => ({ name: `npy/${d}-3x4`, kind: 'npy', bytes: writeNpy(d, [3, 4], data[d]()), weight: 2 }));
  seeds.push({ name: 'npy/float32-scalar', kind: 'npy', bytes: writeNpy('float32', [], Float32Array.of(1.5)), weight: 1 });
  seeds.push({ name: 'npy/float32-empty', kind: 'npy', bytes: writeNpy('float32', [0, 5], new Float32Array(0)), weight: 1 });
  seeds.push({ name: 'npy/float32-1x1x8x8', kind: 'npy', bytes: writeNpy('float32', [1, 1, 8, 8], weights(64, 53)), weight: 1 });
  // a big-endian file as numpy writes on request ('>f8'): same header length, swapped bytes
  const be = writeNpy('float64', [2, 3], Float64Array.from([1, 2, 3, 4, 5, 6]));
  const at = indexOf(be, "'<f8'");
  be[at + 1] = '>'.charCodeAt(0);
  const body = be.subarray(be.length - 48);
  for (let i = 0; i < body.length; i += 8) body.subarray(i, i + 8).reverse();
  seeds.push({ name: 'npy/float64-big-endian', kind: 'npy', bytes: be, weight: 1 });
  return seeds;
}

function indexOf(bytes: Uint8Array, text: string): number {
  const s = new TextDecoder('latin1').decode(bytes);
  return s.indexOf(text);
}

let cached: Seed[] | undefined;

/** Every seed, in a fixed order (case generation depends on it). */
export function seedCorpus(): Seed[] {
  if (cached) return cached;
  const pretrained = pretrainedModels();
  const onnx: Seed[] = Object.entries(ONNX_SEED_BUILDERS).map(([name, build]) => ({ name: `onnx/${name}`, kind: 'onnx', bytes: build(), weight: 3 }));
  for (const p of pretrained) onnx.push({ name: `onnx/${p.name}`, kind: 'onnx', bytes: p.bytes, weight: 1 });
  // plain Uint8Array copies: protobufjs hands out Node Buffers, whose slice() is a view, and a
  // mutation must never write into its seed
  cached = [...onnx, ...epmSeeds(pretrained), ...npySeeds()].map((s) => ({ ...s, bytes: new Uint8Array(s.bytes) }));
  return cached;
}
