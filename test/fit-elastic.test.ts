// Elastic width (fit --elastic): one .epm, many widths. Every width is checked against the model
// pruned to that width by the ordinary path, lnStructured(model, { amount: 1 - width }) written
// as a normal artifact: the same graph, weights and kernels, so the outputs must be bit-identical
// (no tolerance: any difference is a wrong channel or a wrong order). memoryBudget is checked
// against each width's memory measured by loading it alone; each width's bytes are a prefix of
// the file, read without touching the rest; corrupt and truncated files give typed errors.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArgumentError, ModelFormatError, OutOfMemoryError } from '../src/errors.js';
import { elasticArtifact, ELASTIC_WIDTHS, fit } from '../src/fit/index.js';
import { readArtifact } from '../src/format/read.js';
import { writeArtifact } from '../src/format/write.js';
import { crc32 } from '../src/format/crc32.js';
import { setElasticStats } from '../src/format/write-elastic.js';
import type { Graph } from '../src/graph/ir.js';
import { writeNpy } from '../src/io/npy.js';
import { importOnnx } from '../src/onnx/import.js';
import { lnStructured } from '../src/prune/structured.js';
import { InferenceSession } from '../src/runtime/session.js';
import { Tensor } from '../src/runtime/tensor.js';
import { images, SAMPLE, smallCnn } from './fit-model.js';
import { buildModel, type NodeSpec } from './util/onnx-build.js';
import { randomArray } from './util/rng.js';
import { cli } from './util/cli.js';

type Init = { name: string; dims: number[]; data: Float32Array | BigInt64Array };

let seed = 100;
const w = (name: string, dims: number[], lo = -0.5, hi = 0.5): Init => ({ name, dims, data: randomArray(dims.reduce((a, b) => a * b, 1), seed++, lo, hi) });

/** Conv [+ BN] [+ act]. */
function conv(p: string, x: string, out: string, cin: number, cout: number, o: { k?: number; bn?: boolean; act?: string } = {}): { nodes: NodeSpec[]; inits: Init[] } {
  const { k = 3, bn = false, act = 'Relu' } = o;
  const pad = (k - 1) >> 1;
  const nodes: NodeSpec[] = [{ op: 'Conv', inputs: [x, `${p}.w`, `${p}.b`], outputs: [`${p}.c`], attrs: { kernel_shape: [k, k], pads: [pad, pad, pad, pad] } }];
  const inits = [w(`${p}.w`, [cout, cin, k, k], -0.3, 0.3), w(`${p}.b`, [cout], -0.1, 0.1)];
  let cur = `${p}.c`;
  if (bn) {
    nodes.push({ op: 'BatchNormalization', inputs: [cur, `${p}.s`, `${p}.bb`, `${p}.m`, `${p}.v`], outputs: [`${p}.bn`], attrs: { epsilon: { float: 1e-5 } } });
    inits.push(w(`${p}.s`, [cout], 0.5, 1.5), w(`${p}.bb`, [cout], -0.2, 0.2), w(`${p}.m`, [cout], -0.2, 0.2), w(`${p}.v`, [cout], 0.5, 1.5));
    cur = `${p}.bn`;
  }
  if (act) nodes.push({ op: act, inputs: [cur], outputs: [out] });
  else nodes[nodes.length - 1].outputs = [out];
  return { nodes, inits };
}

/**
 * Conv-BN-Relu, a residual block (Add), a Split into two branches joined by Concat, a conv, then
 * Flatten → Gemm(2048 → 64) → Relu → Gemm(64 → 10): channel groups through BN, Add, Split sizes
 * (a constant that changes per width), Concat offsets and Flatten, and weights large enough
 * (the first Gemm is 512 kB) that the widths take different numbers of 64 KiB wasm pages.
 */
function mixedModel(): Uint8Array {
  const parts = [
    conv('c1', 'x', 'a', 3, 16, { bn: true }),
    conv('r1', 'a', 'r1o', 16, 16, { bn: true }),
    conv('r2', 'r1o', 'r2o', 16, 16, { bn: true, act: '' }),
    { nodes: [{ op: 'Add', inputs: ['a', 'r2o'], outputs: ['s'] }, { op: 'Relu', inputs: ['s'], outputs: ['b'] }, { op: 'Split', inputs: ['b', 'sizes'], outputs: ['s1', 's2'], attrs: { axis: 1 } }], inits: [{ name: 'sizes', dims: [2], data: BigInt64Array.of(8n, 8n) }] },
    conv('l', 's1', 'lo', 8, 12, { k: 1 }),
    conv('r', 's2', 'ro', 8, 12, { k: 1, act: 'Tanh' }),
    { nodes: [{ op: 'Concat', inputs: ['lo', 'ro'], outputs: ['cat'], attrs: { axis: 1 } }], inits: [] },
    conv('c', 'cat', 'co', 24, 32),
    {
      nodes: [
        { op: 'Flatten', inputs: ['co'], outputs: ['f'] },
        { op: 'Gemm', inputs: ['f', 'g1.w', 'g1.b'], outputs: ['h'], attrs: { transB: 1 } },
        { op: 'Relu', inputs: ['h'], outputs: ['hr'] },
        { op: 'Gemm', inputs: ['hr', 'g2.w', 'g2.b'], outputs: ['y'], attrs: { transB: 1 } },
      ],
      inits: [w('g1.w', [64, 2048], -0.05, 0.05), w('g1.b', [64], -0.1, 0.1), w('g2.w', [10, 64]), w('g2.b', [10])],
    },
  ];
  return buildModel({ nodes: parts.flatMap((p) => p.nodes), initializers: parts.flatMap((p) => p.inits), inputs: [{ name: 'x', dims: ['N', 3, 8, 8] }], outputs: ['y'] });
}

const X = images(4, 9);
const feed = () => ({ x: new Tensor('float32', X, [4, ...SAMPLE]) });

async function outputs(bytes: Uint8Array, opts: { width?: number; memoryBudget?: number } = {}): Promise<{ y: Float32Array; level?: number }> {
  const s = await InferenceSession.create(bytes, { ...opts, freeDimensionOverrides: { N: 4 } });
  try {
    return { y: (await s.run(feed())).y.data as Float32Array, level: s.info().elastic?.level };
  } finally {
    await s.release();
  }
}

/** The ordinary path: lnStructured at amount 1 - width, written as a normal artifact. */
async function reference(graph: Graph, width: number): Promise<Float32Array> {
  const g = width === 1 ? graph : (await lnStructured(graph, { amount: 1 - width })).graph;
  return (await outputs(writeArtifact(g))).y;
}

const headEnd = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset).getUint32(24, true);

let graph: Graph;
let elastic: Awaited<ReturnType<typeof elasticArtifact>>;

beforeAll(async () => {
  graph = importOnnx(mixedModel());
  elastic = await elasticArtifact(graph);
});

describe('an elastic artifact', () => {
  it('has the default widths that change the model, widest first, each recorded with its memory', () => {
    const { levels } = elastic;
    // groups of 16, 12 (+12 via Concat), 32 and 64 channels, counts rounded to multiples of 4:
    // every default width changes at least one group
    expect(levels.map((l) => l.channels)).toEqual([...ELASTIC_WIDTHS]);
    expect(levels[0].bytes).toBe(elastic.bytes.length);
    for (let i = 1; i < levels.length; i++) {
      expect(levels[i].bytes).toBeLessThan(levels[i - 1].bytes);
      expect(levels[i].weightBytes).toBeLessThan(levels[i - 1].weightBytes);
      expect(levels[i].memoryBytes).toBeLessThanOrEqual(levels[i - 1].memoryBytes);
    }
    expect(levels.every((l) => l.accuracy === undefined)).toBe(true);
  });

  it('every width equals the model pruned to that width (lnStructured, a normal artifact): bit-identical outputs', async () => {
    for (const { channels } of elastic.levels) {
      const ours = await outputs(elastic.bytes, { width: channels });
      expect(ours.level).toBe(elastic.levels.findIndex((l) => l.channels === channels));
      expect(ours.y, `width ${channels}`).toEqual(await reference(graph, channels));
    }
    // and the widths differ from each other (the comparison above could not pass by accident)
    expect((await outputs(elastic.bytes, { width: 0.25 })).y).not.toEqual((await outputs(elastic.bytes)).y);
  });

  it('a width between two levels loads the narrower; readArtifact without a choice reads the widest', async () => {
    expect((await outputs(elastic.bytes, { width: 0.7 })).level).toBe(3); // 75% > 0.7 > 62.5%
    const widest = readArtifact(elastic.bytes);
    expect(widest.initializers.get('g1.w')!.dims).toEqual([64, 2048]);
  });

  it('records each width as a session measures it: weights, arena and wasm memory', async () => {
    for (const [i, l] of elastic.levels.entries()) {
      const s = await InferenceSession.create(elastic.bytes, { width: l.channels });
      const info = s.info();
      expect([info.weightBytes, info.plannedPeakBytes, s.kernels.heap.memoryBytes]).toEqual([l.weightBytes, l.peakBytes, l.memoryBytes]);
      expect(info.elastic).toEqual({ level: i, levels: elastic.levels });
      await s.release();
    }
  });

  it('memoryBudget keeps the widest width whose memory fits, checked against each width loaded alone', async () => {
    const { levels } = elastic;
    // the widths here take different numbers of pages, so each budget below picks a different one
    expect(new Set(levels.map((l) => l.memoryBytes)).size).toBeGreaterThanOrEqual(4);
    for (const l of levels) {
      for (const budget of [l.memoryBytes, l.memoryBytes + 65535]) {
        const want = levels.findIndex((x) => x.memoryBytes <= budget);
        const s = await InferenceSession.create(elastic.bytes, { memoryBudget: budget });
        expect(s.info().elastic!.level, `budget ${budget}`).toBe(want);
        expect(s.kernels.heap.memoryBytes).toBeLessThanOrEqual(budget);
        await s.release();
      }
    }
    // the default budget (1 GiB) keeps the widest
    expect((await outputs(elastic.bytes)).level).toBe(0);
  });

  it('when a width recorded as fitting does not fit after all (another kernel build), the next narrower one is loaded', async () => {
    const { levels } = elastic;
    // record 1 byte for the three widest: the budget lets them through, the session's cap does not
    const lying = setElasticStats(elastic.bytes, levels.map((l, i) => ({ ...l, memoryBytes: i < 3 ? 1 : l.memoryBytes })));
    const budget = levels[3].memoryBytes;
    expect(levels[2].memoryBytes).toBeGreaterThan(budget);
    const s = await InferenceSession.create(lying, { memoryBudget: budget });
    expect(s.info().elastic!.level).toBe(3);
    await s.release();
    // an explicit width is not second-guessed: over the budget is the session's OutOfMemoryError
    await expect(InferenceSession.create(lying, { memoryBudget: budget, width: 1 })).rejects.toThrow(OutOfMemoryError);
  });

  it('a memoryBudget below the narrowest width: OutOfMemoryError giving the smallest budget that works', async () => {
    const narrowest = elastic.levels[elastic.levels.length - 1];
    const err = await InferenceSession.create(elastic.bytes, { memoryBudget: narrowest.memoryBytes - 1 }).catch((e) => e);
    expect(err).toBeInstanceOf(OutOfMemoryError);
    expect(err.message).toContain(`the smallest memoryBudget that works is ${narrowest.memoryBytes}`);
    expect(err.neededBytes).toBe(narrowest.memoryBytes);
    // and that budget does work
    expect((await outputs(elastic.bytes, { memoryBudget: narrowest.memoryBytes })).level).toBe(elastic.levels.length - 1);
  });

  it('reads a prefix per width: the bytes of a width hold its weights and little else, and the rest of the file is never touched', async () => {
    const { bytes, levels } = elastic;
    const head = headEnd(bytes);
    for (const [i, l] of levels.entries()) {
      // the width's float weights, stored dense (random weights: no encoding is smaller)
      const g = readArtifact(bytes, () => i);
      let weights = 0;
      let tensors = 0;
      for (const t of g.initializers.values()) {
        tensors++;
        if (t.dtype === 'float32') weights += 4 * t.data.length;
      }
      // data read = its weights + the Split sizes of every width (8 bytes each, 16-byte aligned) + alignment
      expect(l.bytes - head).toBeGreaterThanOrEqual(weights);
      expect(l.bytes - head).toBeLessThanOrEqual(weights + 16 * levels.length + 16 * (tensors + 8));
      // only the prefix: the rest replaced by noise changes nothing
      const noisy = bytes.slice();
      for (let j = l.bytes; j < noisy.length; j++) noisy[j] = (j * 7919) & 0xff;
      const prefix = bytes.slice(0, l.bytes);
      const want = (await outputs(bytes, { width: l.channels })).y;
      expect((await outputs(noisy, { width: l.channels })).y).toEqual(want);
      expect((await outputs(prefix, { width: l.channels })).y).toEqual(want);
      if (i > 0) {
        // a prefix that ends inside the width's last block
        const err = await outputs(bytes.slice(0, l.bytes - 1), { width: l.channels }).catch((e) => e);
        expect(err).toBeInstanceOf(ModelFormatError);
        expect(err.message).toMatch(new RegExp(`truncated: the ${l.channels * 100}% width reads the first ${l.bytes} bytes of the file but ${l.bytes - 1} were given`));
      }
    }
    // the narrowest width reads well under half of the file
    expect(levels[levels.length - 1].bytes).toBeLessThan(0.2 * bytes.length);
  });
});

describe('corrupt and truncated elastic artifacts', () => {
  const flip = (at: number) => {
    const b = elastic.bytes.slice();
    b[at] ^= 0x10;
    return b;
  };
  const load = (b: Uint8Array, width?: number) => InferenceSession.create(b, { width }).then((s) => s.release(), (e) => e);

  it('a flipped bit in the head: checksum mismatch at every width', async () => {
    const b = flip(headEnd(elastic.bytes) - 200);
    for (const width of [1, 0.25]) {
      const e = await load(b, width);
      expect(e).toBeInstanceOf(ModelFormatError);
      expect(e.message).toMatch(/corrupted or truncated: checksum mismatch \(stored CRC-32/);
    }
  });

  it('a flipped bit in the widest block: that width fails naming its block, narrower ones load', async () => {
    const b = flip(elastic.bytes.length - 10);
    const e = await load(b, 1);
    expect(e).toBeInstanceOf(ModelFormatError);
    expect(e.message).toMatch(/checksum mismatch in the block the 100% width adds/);
    expect(await load(b, 0.875)).toBeUndefined();
  });

  it('a flipped bit in the narrowest block: every width fails', async () => {
    const b = flip(headEnd(elastic.bytes) + 40);
    for (const width of [1, 0.5, 0.25]) expect((await load(b, width)).message).toMatch(/checksum mismatch in the block the 25% width adds/);
  });

  it('truncated: shorter than the head, or than the width asked for; longer than the header says', async () => {
    const head = headEnd(elastic.bytes);
    expect((await load(elastic.bytes.slice(0, head - 1))).message).toMatch(/corrupted or truncated: the head of the file ends at \d+ but \d+ bytes were given/);
    expect((await load(elastic.bytes.slice(0, 20))).message).toMatch(/truncated: 20 bytes/);
    const e = await load(elastic.bytes.slice(0, elastic.bytes.length - 1));
    expect(e).toBeInstanceOf(ModelFormatError);
    expect(e.message).toMatch(/truncated: the 100% width reads the first \d+ bytes of the file/);
    expect((await load(Uint8Array.from([...elastic.bytes, 0]))).message).toMatch(/the header says \d+ bytes but \d+ were given/);
  });

  it('random edits of the head with its checksum recomputed: a graph or a ModelFormatError, never another error', async () => {
    const head = headEnd(elastic.bytes);
    let state = 12345;
    const r = () => ((state = (state * 1103515245 + 12345) >>> 0) / 2 ** 32);
    let refused = 0;
    for (let t = 0; t < 400; t++) {
      const b = elastic.bytes.slice();
      const at = 32 + Math.floor(r() * (head - 32));
      b[at] ^= 1 + Math.floor(r() * 255);
      new DataView(b.buffer).setUint32(20, crc32(b.subarray(32, head)), true);
      try {
        readArtifact(b, (levels) => Math.floor(r() * levels.length));
      } catch (e) {
        if (!(e instanceof ModelFormatError)) throw e;
        expect(e.message).not.toContain('internal reader error');
        refused++;
      }
    }
    expect(refused).toBeGreaterThan(0);
  });

  it('bad widths: below the narrowest, outside (0, 1], or any width but 1 on a model with one width', async () => {
    expect(await load(elastic.bytes, 0.2)).toBeInstanceOf(ArgumentError);
    expect((await load(elastic.bytes, 0.2)).message).toMatch(/its widths are 100%, 87.5%, 75%, 62.5%, 50%, 37.5%, 25%/);
    expect(await load(elastic.bytes, 1.5)).toBeInstanceOf(ArgumentError);
    const plain = writeArtifact(graph);
    expect(await load(plain, 0.5)).toBeInstanceOf(ArgumentError);
    expect(await load(plain, 1)).toBeUndefined();
  });
});

describe('fit --elastic', () => {
  const calib = { x: images(128, 3), sampleDims: SAMPLE };

  it('fits the widest width to the budgets; every width is the fitted model pruned to it; accuracy per width recorded', async () => {
    const g = importOnnx(smallCnn({ seed: 2 }));
    const y = Float32Array.from({ length: 64 }, (_, i) => i % 10);
    const evaluate = { x: images(64, 4), y: Int32Array.from(y), n: 64, sampleDims: [...SAMPLE], classes: 10 };
    const dense = await fit(g, { maxSize: '1MB' }, { calibration: calib, elastic: true, evaluate, latencyRuns: 3 });
    const budget = Math.round(dense.bytes.length * 0.6);
    const r = await fit(g, { maxSize: budget }, { calibration: calib, elastic: true, evaluate, latencyRuns: 3 });
    expect(r.bytes.length).toBeLessThanOrEqual(budget);
    expect(r.measured.size).toBe(r.bytes.length);
    const s = await InferenceSession.create(r.bytes);
    const levels = s.info().elastic!.levels;
    await s.release();
    expect(levels).toEqual(r.elastic!.levels);
    // fit cut SmallCNN's two 16-channel groups; what is left still narrows
    expect(levels.length).toBeGreaterThanOrEqual(2);
    expect(r.plan.groups.some((gr) => gr.keep < gr.total)).toBe(true);
    // the widest width is the fitted model, and its recorded accuracy is fit's
    expect(levels[0].accuracy).toBe(r.accuracy!.fitted);
    expect(levels.every((l) => typeof l.accuracy === 'number' && l.accuracy >= 0 && l.accuracy <= 1)).toBe(true);
    for (const l of levels) expect((await outputs(r.bytes, { width: l.channels })).y, `width ${l.channels}`).toEqual(await reference(r.graph, l.channels));
  });

  it('refuses ONNX output and bad widths', async () => {
    const g = importOnnx(smallCnn({ seed: 2 }));
    await expect(fit(g, { maxSize: '1MB' }, { calibration: calib, elastic: true, format: 'onnx' })).rejects.toThrow(ArgumentError);
    await expect(fit(g, { maxSize: '1MB' }, { calibration: calib, elastic: { widths: [0.5, 0.25] } })).rejects.toThrow(/elastic widths must start at 1/);
  });
});

describe('edgeprune fit --elastic', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'edgeprune-elastic-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));


  it('writes an elastic .epm, prints the widths with their memory and accuracy; memoryBudget picks from it', async () => {
    const model = join(dir, 'net.onnx');
    writeFileSync(model, smallCnn({ seed: 2 }));
    writeFileSync(join(dir, 'x.npy'), writeNpy('float32', [96, ...SAMPLE], images(96, 4)));
    writeFileSync(join(dir, 'y.npy'), writeNpy('int64', [96], BigInt64Array.from({ length: 96 }, (_, i) => BigInt(i % 10))));
    const out = join(dir, 'elastic.epm');
    const r = await cli(['fit', model, '--max-size', '40kB', '--data', join(dir, 'x.npy'), '--labels', join(dir, 'y.npy'), '--elastic', '--out', out, '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/elastic widths/);
    expect(r.stdout).toMatch(/width\s+file bytes read\s+weights\s+arena\s+wasm memory \(memoryBudget\)\s+accuracy/);
    const bytes = new Uint8Array(readFileSync(out));
    expect(bytes.length).toBeLessThanOrEqual(40000);
    const s = await InferenceSession.create(bytes);
    const levels = s.info().elastic!.levels;
    await s.release();
    for (const l of levels) expect(r.stdout).toMatch(new RegExp(`${(100 * l.channels).toFixed(1)}%\\s+${l.bytes.toLocaleString('en-US')}\\s+${l.weightBytes.toLocaleString('en-US')}\\s`));
    expect(levels.every((l) => l.accuracy !== undefined)).toBe(true);
    const inspect = await cli(['inspect', out]);
    expect(inspect.stdout).toMatch(new RegExp(`elastic widths\\s+${levels.map((l, i) => `${+(100 * l.channels).toFixed(2)}%${i ? '' : ' \\(loaded\\)'}`).join(', ')}`));
    const narrow = await InferenceSession.create(bytes, { memoryBudget: levels[levels.length - 1].memoryBytes });
    expect(narrow.info().elastic!.level).toBe(levels.findIndex((l) => l.memoryBytes <= levels[levels.length - 1].memoryBytes));
    await narrow.release();
  });

  it('--elastic with an .onnx output is a usage error', async () => {
    const r = await cli(['fit', join(dir, 'net.onnx'), '--max-size', '40kB', '--calib', join(dir, 'x.npy'), '--elastic', '--out', join(dir, 'x.onnx')]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/--elastic writes an \.epm artifact/);
  });
});
