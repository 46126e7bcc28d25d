// What the fuzzer found, and the fix of each: the saved inputs (test/fuzz/regressions/, listed
// in manifest.json with where they came from) replayed through every loader, and one test per
// fix that shows its message, its limit from both sides, and, for the two hangs, a size the old
// quadratic code could not finish within the test timeout.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import onnxProto from 'onnx-proto';
import { describe, expect, it } from 'vitest';
import { NpyError, OutOfMemoryError } from '../src/errors.js';
import { readArtifact } from '../src/format/read.js';
import { writeArtifact } from '../src/format/write.js';
import type { Graph, Node } from '../src/graph/ir.js';
import { DEFAULT_MAX_TENSOR_BYTES } from '../src/graph/load-limits.js';
import { FOLD_BASE_BYTES } from '../src/graph/passes/fold-constants.js';
import { renameNode } from '../src/graph/passes/names.js';
import { removeIdentity } from '../src/graph/passes/remove-identity.js';
import { simplify } from '../src/graph/passes/simplify.js';
import { readNpy } from '../src/io/npy.js';
import { MAX_PY_LITERAL_DEPTH, parsePyLiteral, PyLiteralSyntaxError } from '../src/io/py-literal.js';
import { importOnnx } from '../src/onnx/import.js';
import { InferenceSession } from '../src/runtime/session.js';
import { KNOWN_RUNTIME_BUGS, runCase, type Loader } from './fuzz/oracle.js';
import { rng } from './util/rng.js';

const { onnx } = onnxProto;
const E = onnx.TensorProto.DataType;

interface Regression {
  file: string;
  found: string;
  problem: string;
  fix: string;
  expect?: Partial<Record<Loader, string>> & { message: string };
  knownRuntimeBug?: string;
}

const DIR = join(process.cwd(), 'test/fuzz/regressions');
const manifest: Regression[] = JSON.parse(readFileSync(join(DIR, 'manifest.json'), 'utf8'));

describe('fuzz regressions: saved inputs', () => {
  it.each(manifest.filter((r) => !r.knownRuntimeBug).map((r) => [r.file, r] as const))('%s', async (_, r) => {
    const o = await runCase(new Uint8Array(gunzipSync(readFileSync(join(DIR, r.file)))));
    expect(o.failures).toEqual([]);
    expect(o.known).toEqual([]);
    const { message, ...want } = r.expect!;
    for (const [loader, what] of Object.entries(want) as [Loader, string][]) {
      const s = o.steps[loader];
      if (what === 'ok') expect(s.status, `${loader}: ${s.message}`).toBe('ok');
      else {
        expect(s.what, `${loader}: ${s.message}`).toMatch(new RegExp(`^${what}/`));
        expect(s.message).toContain(message);
      }
    }
  });

  it.each(manifest.filter((r) => r.knownRuntimeBug).map((r) => [r.file, r] as const))('%s still crashes the runtime (known bug: when this fails, the bug is fixed; drop it from KNOWN_RUNTIME_BUGS and the manifest)', async (_, r) => {
    const bug = KNOWN_RUNTIME_BUGS.find((k) => k.id === r.knownRuntimeBug);
    expect(bug, r.knownRuntimeBug).toBeDefined();
    const o = await runCase(new Uint8Array(gunzipSync(readFileSync(join(DIR, r.file)))));
    expect(o.failures).toEqual([]);
    expect(o.known.length).toBe(1);
    expect(o.known[0]).toMatch(bug!.pattern);
  });
});

// ---- .npy: nesting depth -------------------------------------------------------------------------

function npyWithHeader(dict: string): Uint8Array {
  const text = dict + ' '.repeat(63 - ((10 + dict.length) % 64)) + '\n';
  const out = new Uint8Array(10 + text.length + 4);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, text.length & 0xff, text.length >> 8]);
  for (let i = 0; i < text.length; i++) out[10 + i] = text.charCodeAt(i);
  return out;
}

describe('fix: Python-literal nesting is bounded (src/io/py-literal.ts)', () => {
  it(`parses ${MAX_PY_LITERAL_DEPTH} nested containers and refuses one more with the offset`, () => {
    const nest = (d: number) => '['.repeat(d) + ']'.repeat(d);
    let v = parsePyLiteral(nest(MAX_PY_LITERAL_DEPTH));
    for (let d = 1; d < MAX_PY_LITERAL_DEPTH; d++) v = (v as unknown[])[0] as typeof v;
    expect(v).toEqual([]);
    expect(() => parsePyLiteral(nest(MAX_PY_LITERAL_DEPTH + 1))).toThrow(PyLiteralSyntaxError);
    expect(() => parsePyLiteral(nest(MAX_PY_LITERAL_DEPTH + 1))).toThrow(`containers nested deeper than 64 levels at offset ${MAX_PY_LITERAL_DEPTH}`);
  });

  it('a .npy header nested 100,000 deep is an NpyError naming the problem, not a stack overflow', () => {
    const deep = '('.repeat(100_000) + ')'.repeat(100_000);
    const bytes = npyWithHeader(`{'descr': '<f4', 'fortran_order': False, 'shape': ${deep}, }`);
    expect(() => readNpy(bytes)).toThrow(NpyError);
    expect(() => readNpy(bytes)).toThrow(/header is not a valid Python dict literal: containers nested deeper than 64 levels/);
    // the same header with a flat shape reads (the bound is not in the way of real files)
    expect(readNpy(npyWithHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }")).dims).toEqual([1]);
  });
});

// ---- load limits ---------------------------------------------------------------------------------

/** y = x + S, S a sparse [rows, cols] initializer with one stored value (7 at linear index 5). */
function sparseModel(rows: number, cols: number): Uint8Array {
  return onnx.ModelProto.encode({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 13 }],
    graph: {
      name: 'g',
      node: [{ opType: 'Add', input: ['x', 'S'], output: ['y'] }],
      input: [{ name: 'x', type: { tensorType: { elemType: E.FLOAT, shape: { dim: [{ dimValue: rows }, { dimValue: cols }] } } } }],
      output: [{ name: 'y', type: { tensorType: { elemType: E.FLOAT } } }],
      sparseInitializer: [{ dims: [rows, cols], values: { name: 'S', dims: [1], dataType: E.FLOAT, floatData: [7] }, indices: { dims: [1], dataType: E.INT64, int64Data: [5] } }],
    },
  }).finish();
}

describe('fix: loaders count tensor memory before allocating it (src/graph/load-limits.ts)', () => {
  it('importOnnx: a sparse tensor held densely past maxTensorBytes is an OutOfMemoryError with the sizes; within it, it loads', () => {
    const bytes = sparseModel(1000, 1000); // ~120 bytes of file, 4,000,000 bytes dense
    expect(bytes.length * 8).toBeLessThan(2 ** 20);
    let err: unknown;
    try {
      importOnnx(bytes, { maxTensorBytes: 2 ** 20 });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(OutOfMemoryError);
    expect((err as OutOfMemoryError).message).toMatch(/^sparse tensor 'S' \(dims \[1000, 1000\], held densely\) needs 4000000 bytes, and the tensors decoded so far 12: over the 1048576-byte limit for one model file \(maxTensorBytes, default 1 GiB\)/);
    expect((err as OutOfMemoryError).neededBytes).toBe(4_000_012); // + the stored value (4 bytes) and its int64 index (8)
    expect((err as OutOfMemoryError).limitBytes).toBe(2 ** 20);
    const s = importOnnx(bytes).initializers.get('S')!; // default: 1 GiB
    expect(s.dims).toEqual([1000, 1000]);
    expect(s.data[5]).toBe(7);
    expect(Array.from(s.data as Float32Array).reduce((a, v) => a + v, 0)).toBe(7);
  });

  it("InferenceSession.create's memoryBudget also bounds what the loader decodes: refused before the dense copy is made", async () => {
    const bytes = sparseModel(1000, 1000); // 4,000,000 bytes dense
    let err: unknown;
    try {
      await InferenceSession.create(bytes, { memoryBudget: 2 ** 20 });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(OutOfMemoryError);
    expect((err as OutOfMemoryError).message).toMatch(/^sparse tensor 'S' \(dims \[1000, 1000\], held densely\) needs 4000000 bytes/);
    expect((err as OutOfMemoryError).limitBytes).toBe(2 ** 20);
  });

  it('readArtifact: an all-zero tensor (a 0-byte payload) past maxTensorBytes is refused before decoding; the default is 1 GiB', () => {
    const g: Graph = {
      name: 'z',
      inputs: [{ name: 'x', dtype: 'float32', dims: [1000, 1000] }],
      outputs: [{ name: 'y', dtype: 'float32', dims: [1000, 1000] }],
      nodes: [{ name: 'add', op: 'Add', domain: '', inputs: ['x', 'Z'], outputs: ['y'], attrs: {} }],
      initializers: new Map([['Z', { dtype: 'float32', dims: [1000, 1000], data: new Float32Array(1_000_000) }]]),
      opset: 13,
      valueInfo: new Map(),
    };
    const bytes = writeArtifact(g);
    expect(bytes.length).toBeLessThan(1024);
    expect(() => readArtifact(bytes, undefined, { maxTensorBytes: 2 ** 20 })).toThrow(OutOfMemoryError);
    expect(() => readArtifact(bytes, undefined, { maxTensorBytes: 2 ** 20 })).toThrow(/^tensor 0 of the artifact \(float32 \[1000, 1000\]\) needs 4000000 bytes.*over the 1048576-byte limit.*pass a larger maxTensorBytes$/);
    expect(readArtifact(bytes).initializers.get('Z')!.data.length).toBe(1_000_000);
    expect(DEFAULT_MAX_TENSOR_BYTES).toBe(2 ** 30);
  });
});

// ---- folding budget --------------------------------------------------------------------------------

/** `count` ConstantOfShape [1000, 1000] int64 nodes, each a graph output (8,000,000 bytes each). */
function foldBomb(count: number): Graph {
  const nodes: Node[] = [];
  for (let i = 0; i < count; i++) {
    nodes.push({ name: `c${i}`, op: 'ConstantOfShape', domain: '', inputs: ['shape'], outputs: [`y${i}`], attrs: { value: { kind: 'tensor', value: { dtype: 'int64', dims: [1], data: BigInt64Array.of(1n) } } } });
  }
  return {
    name: 'bomb',
    inputs: [],
    outputs: nodes.map((n) => ({ name: n.outputs[0], dtype: 'int64' as const, dims: [1000, 1000] })),
    nodes,
    initializers: new Map([['shape', { dtype: 'int64', dims: [2], data: BigInt64Array.of(1000n, 1000n) }]]),
    opset: 13,
    valueInfo: new Map(),
  };
}

describe('fix: one folding budget per simplification (src/graph/passes/fold-constants.ts)', () => {
  it('folds ConstantOfShape results until 64 MiB are spent (8 × 8,000,000 bytes), leaves the rest to the runtime, and a second simplify of the result folds no more', () => {
    expect(FOLD_BASE_BYTES).toBe(64 * 2 ** 20);
    const once = simplify(foldBomb(12));
    // hand count: 8 × 8,000,000 = 64,000,000 ≤ 67,108,864 < 9 × 8,000,000
    expect(once.nodes.map((n) => n.name)).toEqual(['c8', 'c9', 'c10', 'c11']);
    expect([...once.initializers.keys()].filter((k) => k.startsWith('y'))).toEqual(['y0', 'y1', 'y2', 'y3', 'y4', 'y5', 'y6', 'y7']);
    expect(once.initializers.get('y3')!.data.length).toBe(1_000_000);
    expect(once.initializers.get('y3')!.data[999_999]).toBe(1n);
    const twice = simplify(once);
    expect(twice.nodes.map((n) => n.name)).toEqual(['c8', 'c9', 'c10', 'c11']);
  });

  it('a model whose own constants are large gets twice their size to fold into', () => {
    expect(simplify(foldBomb(9)).nodes.map((n) => n.name)).toEqual(['c8']);
    const g = foldBomb(9);
    // 36 MB of the model's own constants: a budget of 2 × 36,000,016 bytes holds the 9 results (72,000,000)
    g.initializers.set('own', { dtype: 'float32', dims: [9_000_000], data: new Float32Array(9_000_000) });
    g.inputs.push({ name: 'x', dtype: 'float32', dims: [9_000_000] });
    g.nodes.push({ name: 'a', op: 'Add', domain: '', inputs: ['x', 'own'], outputs: ['w'], attrs: {} });
    g.outputs.push({ name: 'w', dtype: 'float32', dims: [9_000_000] });
    expect(simplify(g).nodes.map((n) => n.name)).toEqual(['a']);
  });
});

// ---- names that are Object.prototype keys ----------------------------------------------------------

describe("fix: ops and attributes named '__proto__' or 'constructor' are plain names (import.ts, names.ts, fold-constants.ts)", () => {
  it("importOnnx keeps an attribute named '__proto__' as an own property; folding skips an op named 'constructor'", () => {
    const bytes = onnx.ModelProto.encode({
      irVersion: 8,
      opsetImport: [{ domain: '', version: 13 }],
      graph: {
        name: 'g',
        node: [
          { opType: 'Relu', name: 'r', input: ['x'], output: ['y'], attribute: [{ name: '__proto__', type: onnx.AttributeProto.AttributeType.INT, i: 3 }] },
          { opType: 'constructor', name: 'c', input: ['k'], output: ['z'] },
        ],
        input: [{ name: 'x', type: { tensorType: { elemType: E.FLOAT, shape: { dim: [{ dimValue: 2 }] } } } }],
        output: [{ name: 'y', type: { tensorType: { elemType: E.FLOAT } } }, { name: 'z', type: { tensorType: { elemType: E.FLOAT } } }],
        initializer: [{ name: 'k', dims: [1], dataType: E.FLOAT, floatData: [1] }],
      },
    }).finish();
    const g = importOnnx(bytes);
    const attrs = g.nodes[0].attrs;
    expect(Object.getPrototypeOf(attrs)).toBe(Object.prototype);
    expect(Object.keys(attrs)).toEqual(['__proto__']);
    expect(Object.getOwnPropertyDescriptor(attrs, '__proto__')!.value).toEqual({ kind: 'int', value: 3 });
    // the 'constructor' node has constant inputs, yet is no evaluator: it stays (the runtime names it unsupported)
    expect(simplify(g).nodes.map((n) => n.op)).toEqual(['Relu', 'constructor']);
  });

  it("renaming a node keeps a graph attribute named '__proto__' an own property", () => {
    const sub: Graph = { name: 's', inputs: [], outputs: [{ name: 'a', dtype: 'float32' }], nodes: [{ name: 'n', op: 'Relu', domain: '', inputs: ['a0'], outputs: ['a'], attrs: {} }], initializers: new Map(), opset: 13, valueInfo: new Map() };
    const attrs = {};
    Object.defineProperty(attrs, '__proto__', { value: { kind: 'graph', value: sub }, enumerable: true, writable: true, configurable: true });
    const node: Node = { name: 'if', op: 'If', domain: '', inputs: ['c'], outputs: ['o'], attrs: attrs as Node['attrs'] };
    const out = renameNode(node, new Map([['a0', 'b0']]));
    expect(Object.getPrototypeOf(out.attrs)).toBe(Object.prototype);
    const renamed = Object.getOwnPropertyDescriptor(out.attrs, '__proto__')!.value.value as Graph;
    expect(renamed.nodes[0].inputs).toEqual(['b0']);
  });
});

// ---- the two hangs -------------------------------------------------------------------------------

/** The pre-fix removeIdentity (rename every node per removed Identity), kept as the reference. */
function removeIdentityReference(g: Graph): Graph {
  const nodes = [...g.nodes];
  const outputs = new Set(g.outputs.map((v) => v.name));
  const fixed = new Set([...g.inputs.map((v) => v.name), ...g.initializers.keys()]);
  const rename = (n: Node, map: Map<string, string>): Node => ({ ...n, inputs: n.inputs.map((x) => map.get(x) ?? x), outputs: n.outputs.map((x) => map.get(x) ?? x) });
  for (let i = 0; i < nodes.length; i++) {
    const n = nodes[i];
    if (n.op !== 'Identity' || !n.inputs[0] || !n.outputs[0]) continue;
    const [x] = n.inputs;
    const [y] = n.outputs;
    let map: Map<string, string>;
    if (!outputs.has(y)) map = new Map([[y, x]]);
    else if (fixed.has(x) || outputs.has(x)) continue;
    else map = new Map([[x, y]]);
    nodes.splice(i, 1);
    i--;
    for (let j = 0; j < nodes.length; j++) nodes[j] = rename(nodes[j], map);
  }
  return { ...g, nodes };
}

/** A random DAG of Relu/Identity/Add nodes over one input and one initializer, some values graph outputs. */
function randomGraph(seed: number, n: number): Graph {
  const r = rng(seed);
  const values = ['x', 'w'];
  const nodes: Node[] = [];
  for (let i = 0; i < n; i++) {
    const op = r() < 0.45 ? 'Identity' : r() < 0.5 ? 'Relu' : 'Add';
    const pick = () => values[Math.floor(r() * values.length)];
    const inputs = op === 'Add' ? [pick(), pick()] : [pick()];
    nodes.push({ name: `n${i}`, op, domain: '', inputs, outputs: [`v${i}`], attrs: {} });
    values.push(`v${i}`);
  }
  const outs = nodes.filter(() => r() < 0.2).map((nd) => ({ name: nd.outputs[0], dtype: 'float32' as const }));
  if (r() < 0.5) outs.push({ name: 'x', dtype: 'float32' }); // an input straight to an output
  return { name: 'r', inputs: [{ name: 'x', dtype: 'float32', dims: [2] }], outputs: outs, nodes, initializers: new Map([['w', { dtype: 'float32', dims: [2], data: Float32Array.of(1, 2) }]]), opset: 13, valueInfo: new Map() };
}

const wiring = (g: Graph) => g.nodes.map((n) => `${n.name}:${n.op}(${n.inputs})->${n.outputs}`);

describe('fix: removeIdentity renames once, not once per removed node (src/graph/passes/remove-identity.ts)', () => {
  it('gives the same graph as the renaming-per-node reference on 300 random graphs', () => {
    for (let s = 0; s < 300; s++) {
      const g = randomGraph(s, 5 + (s % 40));
      expect(wiring(removeIdentity(g)), `seed ${s}`).toEqual(wiring(removeIdentityReference(g)));
    }
  });

  it('a chain of 60,000 nodes, every third an Identity (the reference needs ~10^9 node copies for it)', () => {
    const nodes: Node[] = [];
    for (let i = 0; i < 60_000; i++) nodes.push({ name: `n${i}`, op: i % 3 === 0 ? 'Identity' : 'Relu', domain: '', inputs: [i ? `v${i - 1}` : 'x'], outputs: [`v${i}`], attrs: {} });
    const g: Graph = { name: 'chain', inputs: [{ name: 'x', dtype: 'float32', dims: [2] }], outputs: [{ name: 'v59999', dtype: 'float32' }], nodes, initializers: new Map(), opset: 13, valueInfo: new Map() };
    const out = removeIdentity(g);
    expect(out.nodes.length).toBe(40_000);
    expect(out.nodes[0].inputs).toEqual(['x']); // n0 (Identity of x) is gone: n1 reads x
    expect(out.nodes.at(-1)!.outputs).toEqual(['v59999']);
    for (let i = 1; i < out.nodes.length; i++) expect(out.nodes[i].inputs[0]).toBe(out.nodes[i - 1].outputs[0]);
  });
});

describe('fix: the importer sorts a value with many readers in linear time (src/onnx/import.ts topoSort)', () => {
  it('100,000 readers of one value, listed before its producer, import in a valid order (the old list copies: ~10^10 element moves)', () => {
    const readers = Array.from({ length: 100_000 }, (_, i) => ({ opType: 'Relu', input: ['src'], output: [`r${i}`] }));
    const bytes = onnx.ModelProto.encode({
      irVersion: 8,
      opsetImport: [{ domain: '', version: 13 }],
      graph: {
        name: 'fan',
        node: [...readers, { opType: 'Neg', input: ['x'], output: ['src'] }],
        input: [{ name: 'x', type: { tensorType: { elemType: E.FLOAT, shape: { dim: [{ dimValue: 2 }] } } } }],
        output: [{ name: 'r99999', type: { tensorType: { elemType: E.FLOAT } } }],
      },
    }).finish();
    const g = importOnnx(bytes);
    expect(g.nodes.length).toBe(100_001);
    expect(g.nodes[0].op).toBe('Neg'); // the producer first, then the readers in file order
    expect(g.nodes[1].outputs).toEqual(['r0']);
    expect(g.nodes[100_000].outputs).toEqual(['r99999']);
  });
});
