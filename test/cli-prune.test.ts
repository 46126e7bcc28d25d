// `edgeprune prune` end to end: every method writes an .onnx file that onnxruntime-node loads and
// that edgeprune runs to the same outputs; the report shows what changed; bad options are one line.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InferenceSession } from '../src/runtime/session.js';
import { Tensor } from '../src/runtime/tensor.js';
import { importOnnx } from '../src/onnx/import.js';
import { expectClose } from './util/close.js';
import { cli } from './util/cli.js';
import { buildModel, runOrt } from './util/onnx.js';
import { randomArray } from './util/rng.js';

let dir: string;
let modelPath: string;
const dims = [2, 3, 10, 10];
const x = randomArray(2 * 3 * 100, 5);

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'edgeprune-cli-prune-'));
  // Conv-BN-Relu x2 with a residual Add, pool, Flatten, Gemm-Relu-Gemm: every method has work
  const c = 16;
  const bn = (i: number) => [
    { name: `g${i}`, dims: [c], data: randomArray(c, 40 + i, 0.5, 1.5) },
    { name: `be${i}`, dims: [c], data: randomArray(c, 50 + i) },
    { name: `m${i}`, dims: [c], data: randomArray(c, 60 + i) },
    { name: `v${i}`, dims: [c], data: randomArray(c, 70 + i, 0.5, 1.5) },
  ];
  writeFileSync((modelPath = join(dir, 'net.onnx')), buildModel({
    nodes: [
      { op: 'Conv', inputs: ['x', 'w0'], outputs: ['c0'], attrs: { pads: [1, 1, 1, 1] } },
      { op: 'BatchNormalization', inputs: ['c0', 'g0', 'be0', 'm0', 'v0'], outputs: ['n0'] },
      { op: 'Relu', inputs: ['n0'], outputs: ['r0'] },
      { op: 'Conv', inputs: ['r0', 'w1'], outputs: ['c1'], attrs: { pads: [1, 1, 1, 1] } },
      { op: 'BatchNormalization', inputs: ['c1', 'g1', 'be1', 'm1', 'v1'], outputs: ['n1'] },
      { op: 'Add', inputs: ['n1', 'r0'], outputs: ['a'] },
      { op: 'Relu', inputs: ['a'], outputs: ['r1'] },
      { op: 'MaxPool', inputs: ['r1'], outputs: ['p'], attrs: { kernel_shape: [2, 2], strides: [2, 2] } },
      { op: 'Flatten', inputs: ['p'], outputs: ['f'] },
      { op: 'Gemm', inputs: ['f', 'fw', 'fb'], outputs: ['h'], attrs: { transB: 1 } },
      { op: 'Relu', inputs: ['h'], outputs: ['hr'] },
      { op: 'Gemm', inputs: ['hr', 'ow'], outputs: ['y'], attrs: { transB: 1 } },
    ],
    inputs: [{ name: 'x', dims: ['N', 3, 10, 10] }],
    outputs: ['y'],
    initializers: [
      { name: 'w0', dims: [c, 3, 3, 3], data: randomArray(c * 27, 1) },
      { name: 'w1', dims: [c, c, 3, 3], data: randomArray(c * c * 9, 2, -0.3, 0.3) },
      ...bn(0), ...bn(1),
      { name: 'fw', dims: [32, c * 25], data: randomArray(32 * c * 25, 3, -0.1, 0.1) },
      { name: 'fb', dims: [32], data: randomArray(32, 4) },
      { name: 'ow', dims: [6, 32], data: randomArray(192, 6) },
    ],
  }));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const METHODS: [string, string[]][] = [
  ['l1-unstructured', ['--amount', '0.5']],
  ['global-l1', ['--amount', '0.6']],
  ['random', ['--amount', '0.3', '--seed', '7']],
  ['channel-l1', ['--amount', '0.5']],
  ['channel-l2', ['--amount', '0.25', '--round-to', '2']],
  ['nm', ['--nm', '2:4']],
  ['block', ['--amount', '0.5', '--block', '4x1']],
];

describe('edgeprune prune', () => {
  it.each(METHODS)('%s writes a model onnxruntime-node loads and edgeprune matches', async (method, extra) => {
    const out = join(dir, `${method}.onnx`);
    const r = await cli(['prune', modelPath, '--method', method, ...extra, '--out', out]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    for (const label of ['parameters', 'non-zero parameters', 'FLOPs per run', 'file bytes', 'planned peak memory']) expect(r.stdout).toContain(label);
    const bytes = readFileSync(out);
    const ref = (await runOrt(bytes, { x: { data: x, dims } })).y;
    const session = await InferenceSession.create(bytes);
    const got = (await session.run({ x: new Tensor('float32', x, dims) })).y;
    expect([...got.dims]).toEqual(ref.dims);
    expectClose(got.data, ref.data, method);
    // the report's non-zeros are the file's
    const g = importOnnx(bytes);
    let nonZero = 0;
    for (const t of g.initializers.values()) if (t.data instanceof Float32Array) nonZero += t.data.reduce((n, v) => n + (v !== 0 ? 1 : 0), 0);
    expect(session.info().nonZeroParams).toBe(nonZero);
    // and every method removed something
    const dense = await InferenceSession.create(readFileSync(modelPath));
    expect(nonZero).toBeLessThan(dense.info().nonZeroParams);
  });

  it('channel pruning shrinks the file and the FLOPs', async () => {
    const out = join(dir, 'half.onnx');
    const r = await cli(['prune', modelPath, '--method', 'channel-l1', '--amount', '0.5', '--out', out]);
    expect(r.code).toBe(0);
    expect(readFileSync(out).length).toBeLessThan(readFileSync(modelPath).length * 0.75);
    const flops = /FLOPs per run\s+(\S+ \S+)\s+(\S+ \S+)\s+(-[\d.]+)%/.exec(r.stdout);
    expect(flops, r.stdout).not.toBeNull();
    expect(Number(flops![3])).toBeLessThan(-40);
  });

  it('a run that removes nothing is an error that says why, and writes nothing', async () => {
    const out = join(dir, 'nothing.onnx');
    // 1% of 16 channels, kept a multiple of 4: no layer loses a channel
    const r = await cli(['prune', modelPath, '--method', 'channel-l2', '--amount', '0.01', '--out', out]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^edgeprune: channel-l2 removed no weight from .*; an unstructured method \(--method l1-unstructured\) prunes any layer; nothing written$/m);
    expect(existsSync(out)).toBe(false);
    // --amount 0 asks for nothing: not an error
    expect((await cli(['prune', modelPath, '--method', 'l1-unstructured', '--amount', '0', '--out', out])).code).toBe(0);
  });

  it('rejects options outside their range with one line and exit code 1', async () => {
    const out = join(dir, 'bad.onnx');
    const cases: [string[], RegExp][] = [
      [['--method', 'channel-l1', '--amount', '1'], /amount/],
      [['--method', 'l1-unstructured', '--amount', '-0.2'], /amount/],
      [['--method', 'nm', '--nm', '5:4'], /n/],
      [['--method', 'nm', '--nm', 'two:four'], /N:M/],
      [['--method', 'l1-unstructured', '--amount', '0.5', '--exclude', 'nope'], /nope/],
      [['--method', 'l1-unstructured'], /--amount/],
    ];
    for (const [args, msg] of cases) {
      const r = await cli(['prune', modelPath, ...args, '--out', out]);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(msg);
    }
  });

  it('writes the compact artifact for any other extension, smaller than the ONNX file when sparse', async () => {
    const epm = join(dir, 'sparse.epm');
    const onnx = join(dir, 'sparse.onnx');
    expect((await cli(['prune', modelPath, '--method', 'global-l1', '--amount', '0.9', '--out', epm])).code).toBe(0);
    expect((await cli(['prune', modelPath, '--method', 'global-l1', '--amount', '0.9', '--out', onnx])).code).toBe(0);
    expect(readFileSync(epm).length).toBeLessThan(readFileSync(onnx).length * 0.3);
    const fromEpm = await InferenceSession.create(readFileSync(epm));
    const fromOnnx = await InferenceSession.create(readFileSync(onnx));
    const a = (await fromEpm.run({ x: new Tensor('float32', x, dims) })).y.data;
    const b = (await fromOnnx.run({ x: new Tensor('float32', x, dims) })).y.data;
    expect(Array.from(a)).toEqual(Array.from(b));
  });
});
