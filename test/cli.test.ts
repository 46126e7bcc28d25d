import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bytes, si } from '../src/cli/format.js';
import { main } from '../src/cli/main.js';
import { fileSafe, outputStems } from '../src/cli/outputs.js';
import type { CliRuntime, CliSession, CliTensor, SessionInfo, ModelInfo } from '../src/cli/session-types.js';
import { ModelFormatError } from '../src/errors.js';
import { readNpy, writeNpy } from '../src/io/npy.js';
import { buildModel } from './util/onnx.js';

// A fake runtime with the session API's shape: model "bytes" are the text FAKE, inputs x [1, 3]
// and scale ['N'], outputs y = 2x + sum(scale), 'a/b' = x + 1 and 'a:b' = -x (the two collide
// once made file-safe), and idx (int64) = [0, 1, 2].
class FakeTensor implements CliTensor {
  constructor(readonly type: string, readonly data: Float32Array | BigInt64Array, readonly dims: number[]) {}
}

const INFO: SessionInfo = {
  params: 1234567,
  nonZeroParams: 617283,
  weightBytes: 4938268,
  flops: 1234567,
  plannedPeakBytes: 524288,
  inputs: [
    { name: 'x', dims: [1, 3] },
    { name: 'scale', dims: ['N'] },
  ],
  outputs: [
    { name: 'y', dims: [1, 3] },
    { name: 'a/b', dims: [1, 3] },
    { name: 'a:b', dims: [1, 3] },
    { name: 'idx', dims: [3] },
  ],
  opCounts: { Relu: 3, Conv: 3, Gemm: 1 },
  nodes: [{ name: 'conv0', op: 'Conv', kernel: 'conv:winograd', outputDims: [1, 16, 8, 8] }],
};

interface FakeLog {
  created: { wasm?: string }[];
  feeds: Record<string, CliTensor>[];
  released: number;
}

function fakeRuntime(log: FakeLog, runImpl?: (feeds: Record<string, CliTensor>) => Record<string, CliTensor>): CliRuntime {
  class FakeSession implements CliSession {
    inputNames = ['x', 'scale'];
    outputNames = ['y', 'a/b', 'a:b', 'idx'];
    inputMetadata = INFO.inputs.map((v) => ({ name: v.name, shape: v.dims }));
    async run(feeds: Record<string, CliTensor>): Promise<Record<string, CliTensor>> {
      log.feeds.push(feeds);
      if (runImpl) return runImpl(feeds);
      const x = feeds.x!.data as Float32Array;
      const s = (feeds.scale!.data as Float32Array).reduce((a, b) => a + b, 0);
      return {
        y: new FakeTensor('float32', x.map((v) => 2 * v + s), [1, 3]),
        'a/b': new FakeTensor('float32', x.map((v) => v + 1), [1, 3]),
        'a:b': new FakeTensor('float32', x.map((v) => -v), [1, 3]),
        idx: new FakeTensor('int64', new BigInt64Array([0n, 1n, 2n]), [3]),
      };
    }
    info(): SessionInfo {
      return structuredClone(INFO);
    }
    modelInfo(): ModelInfo {
      const { params, nonZeroParams, inputs, outputs, opCounts } = structuredClone(INFO);
      return { params, nonZeroParams, inputs, outputs, opCounts };
    }
    async release(): Promise<void> {
      log.released++;
    }
  }
  return {
    InferenceSession: {
      async create(bytes: Uint8Array, options?: { wasm?: 'simd' | 'relaxed' }): Promise<CliSession> {
        if (new TextDecoder().decode(bytes) !== 'FAKE') throw new ModelFormatError('not an ONNX model: the protobuf ends inside a field; re-export the model');
        log.created.push(options ?? {});
        return new FakeSession();
      },
    },
    Tensor: FakeTensor,
  };
}

interface Result {
  code: number;
  stdout: string;
  stderr: string;
  log: FakeLog;
}

async function cli(args: string[], opts: { env?: Record<string, string>; run?: (feeds: Record<string, CliTensor>) => Record<string, CliTensor> } = {}): Promise<Result> {
  let stdout = '';
  let stderr = '';
  const log: FakeLog = { created: [], feeds: [], released: 0 };
  const runtime = fakeRuntime(log, opts.run);
  const code = await main(['node', 'edgeprune', ...args], {
    stdout: { write: (s) => void (stdout += s) },
    stderr: { write: (s) => void (stderr += s) },
    env: opts.env ?? {},
    runtime: async () => runtime,
  });
  return { code, stdout, stderr, log };
}

/** exactly one line `edgeprune: ...` on stderr, nothing on stdout */
function expectOneLineError(r: Result, code: number, pattern: RegExp): void {
  expect(r.stdout).toBe('');
  expect(r.stderr.split('\n')).toHaveLength(2); // one line + the final newline
  expect(r.stderr).toMatch(/^edgeprune: .+\n$/);
  expect(r.stderr).toMatch(pattern);
  expect(r.code).toBe(code);
}

let dir: string;
let model: string;
const f32 = (path: string, dims: number[], values: number[]) => writeFileSync(path, writeNpy('float32', dims, new Float32Array(values)));

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'edgeprune-cli-'));
  model = join(dir, 'model.onnx');
  writeFileSync(model, 'FAKE');
  f32(join(dir, 'x.npy'), [1, 3], [1, 2, 3]);
  f32(join(dir, 'scale.npy'), [2], [10, 20]);
  writeFileSync(join(dir, 'x64.npy'), writeNpy('float64', [1, 3], new Float64Array([0.5, 1.5, 2.5])));
  writeFileSync(join(dir, 'xint.npy'), writeNpy('int64', [1, 3], new BigInt64Array([1n, 2n, 3n])));
  f32(join(dir, 'x-wrong.npy'), [3], [1, 2, 3]);
  writeFileSync(join(dir, 'broken.npy'), writeNpy('float32', [1, 3], new Float32Array(3)).subarray(0, 130));
  writeFileSync(join(dir, 'garbage.onnx'), 'not a model');
  writeFileSync(join(dir, 'a-file'), 'x');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const outDir = (name: string) => join(dir, name);
const readOut = (d: string, file: string) => readNpy(new Uint8Array(readFileSync(join(d, file))));

describe('edgeprune inspect', () => {
  it('prints a table', async () => {
    const r = await cli(['inspect', model]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(
      [
        `model           ${model}`,
        'inputs          x  [1, 3]',
        '                scale  [N]',
        'outputs         y  [1, 3]',
        '                a/b  [1, 3]',
        '                a:b  [1, 3]',
        '                idx  [3]',
        'parameters      1,234,567 (non-zero 617,283 = 50.0%)',
        'packed weights  4.9 MB (4,938,268 bytes)',
        'compute         1.2 MFLOP per run',
        'peak memory     524.3 kB (524,288 bytes) planned',
        'operators       7 nodes, 3 kinds',
        '                3  Conv',
        '                3  Relu',
        '                1  Gemm',
        '',
      ].join('\n'),
    );
    expect(r.log.released).toBe(1);
  });

  it('--json prints the info object', async () => {
    const r = await cli(['inspect', model, '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(INFO);
  });

  it('a missing model file is one line, exit 1', async () => {
    const missing = join(dir, 'nope.onnx');
    expectOneLineError(await cli(['inspect', missing]), 1, new RegExp(`^edgeprune: cannot read ${missing.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: no such file\n$`));
  });

  it('a directory as the model is one line, exit 1', async () => {
    expectOneLineError(await cli(['inspect', dir]), 1, /cannot read .*: it is a directory/);
  });

  it('a model the runtime rejects is its typed error, one line, exit 1', async () => {
    expectOneLineError(await cli(['inspect', join(dir, 'garbage.onnx')]), 1, /^edgeprune: not an ONNX model: .*re-export the model\n$/);
  });

  it('with --json an error is also JSON on stdout (the same code and message)', async () => {
    const r = await cli(['inspect', join(dir, 'garbage.onnx'), '--json']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^edgeprune: not an ONNX model: .*\n$/);
    const { error } = JSON.parse(r.stdout);
    expect(error.code).toBe('E_MODEL_FORMAT');
    expect(`edgeprune: ${error.message}\n`).toBe(r.stderr);
    // after `--` it is an argument, not the option
    expect((await cli(['inspect', join(dir, 'garbage.onnx'), '--', '--json'])).stdout).toBe('');
  });
});

describe('edgeprune run', () => {
  it('named inputs: writes one .npy per output with file-safe unique names', async () => {
    const out = outDir('named');
    const r = await cli(['run', model, '--input', `scale=${join(dir, 'scale.npy')}`, '--input', `x=${join(dir, 'x.npy')}`, '--out', out]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      [
        `wrote ${join(out, 'y.npy')}  (output 'y', float32 [1, 3])`,
        `wrote ${join(out, 'a_b.npy')}  (output 'a/b', float32 [1, 3])`,
        `wrote ${join(out, 'a_b_2.npy')}  (output 'a:b', float32 [1, 3])`,
        `wrote ${join(out, 'idx.npy')}  (output 'idx', int64 [3])`,
        '',
      ].join('\n'),
    );
    expect(readdirSync(out).sort()).toEqual(['a_b.npy', 'a_b_2.npy', 'idx.npy', 'y.npy']);
    const y = readOut(out, 'y.npy');
    expect(y.dtype).toBe('float32');
    expect(y.dims).toEqual([1, 3]);
    expect(Array.from(y.data as Float32Array)).toEqual([32, 34, 36]);
    expect(Array.from(readOut(out, 'a_b.npy').data as Float32Array)).toEqual([2, 3, 4]);
    expect(Array.from(readOut(out, 'a_b_2.npy').data as Float32Array)).toEqual([-1, -2, -3]);
    expect(Array.from(readOut(out, 'idx.npy').data as BigInt64Array)).toEqual([0n, 1n, 2n]);
    const feeds = r.log.feeds[0]!;
    expect(feeds.x!.dims).toEqual([1, 3]);
    expect(feeds.x!.type).toBe('float32');
    expect(feeds.scale!.dims).toEqual([2]);
    expect(r.log.released).toBe(1);
  });

  it('positional inputs follow the model input order; -i/-o short forms; nested --out is created', async () => {
    const out = join(outDir('positional'), 'deeper');
    const r = await cli(['run', model, '-i', join(dir, 'x.npy'), '-i', join(dir, 'scale.npy'), '-o', out]);
    expect(r.code).toBe(0);
    expect(Array.from(r.log.feeds[0]!.x!.data as Float32Array)).toEqual([1, 2, 3]);
    expect(Array.from(r.log.feeds[0]!.scale!.data as Float32Array)).toEqual([10, 20]);
    expect(Array.from(readOut(out, 'y.npy').data as Float32Array)).toEqual([32, 34, 36]);
  });

  it('a named input and a positional one: the file fills the input not named', async () => {
    const r = await cli(['run', model, '--input', `scale=${join(dir, 'scale.npy')}`, '--input', join(dir, 'x.npy'), '--out', outDir('mixed')]);
    expect(r.code).toBe(0);
    expect(Array.from(r.log.feeds[0]!.x!.data as Float32Array)).toEqual([1, 2, 3]);
  });

  it('an existing file whose name holds "=" is a positional input', async () => {
    const odd = join(dir, 'a=b.npy');
    f32(odd, [1, 3], [4, 5, 6]);
    const r = await cli(['run', model, '--input', odd, '--input', join(dir, 'scale.npy'), '--out', outDir('eq')]);
    expect(r.stderr).toBe('');
    expect(Array.from(r.log.feeds[0]!.x!.data as Float32Array)).toEqual([4, 5, 6]);
  });

  it('float64 inputs are converted with a one-line note', async () => {
    const x64 = join(dir, 'x64.npy');
    const r = await cli(['run', model, '-i', x64, '-i', join(dir, 'scale.npy'), '-o', outDir('f64')]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(`edgeprune: note: input 'x' (${x64}) is float64; converted to float32\n`);
    expect(r.log.feeds[0]!.x!.data).toBeInstanceOf(Float32Array);
    expect(Array.from(r.log.feeds[0]!.x!.data as Float32Array)).toEqual([0.5, 1.5, 2.5]);
  });

  it('--wasm goes to InferenceSession.create', async () => {
    const args = ['run', model, '-i', join(dir, 'x.npy'), '-i', join(dir, 'scale.npy'), '-o', outDir('wasm')];
    expect((await cli([...args, '--wasm', 'simd'])).log.created).toEqual([{ wasm: 'simd', freeDimensionOverrides: {} }]);
    expect((await cli([...args, '--wasm', 'relaxed'])).log.created).toEqual([{ wasm: 'relaxed', freeDimensionOverrides: {} }]);
    expect((await cli(args)).log.created).toEqual([{ freeDimensionOverrides: {} }]);
  });
});

describe('edgeprune run errors: one line, exit 1, session released', () => {
  const x = () => join(dir, 'x.npy');
  const scale = () => join(dir, 'scale.npy');
  const cases: [string, () => string[], RegExp][] = [
    ['an int64 file for a float32 input names the input', () => ['-i', join(dir, 'xint.npy'), '-i', scale()], /input 'x' takes float32, but .*xint\.npy holds int64; .*astype\(np\.float32\)/],
    ['an unknown NAME lists the inputs', () => ['-i', `z=${x()}`, '-i', scale()], /unknown input 'z' in --input z=.*; the model's inputs are 'x', 'scale'/],
    ['more files than inputs', () => ['-i', x(), '-i', scale(), '-i', x()], /too many --input files: 3 given, but the model has 2 inputs: 'x', 'scale'/],
    ['more files than the inputs left after NAME=', () => ['-i', `x=${x()}`, '-i', scale(), '-i', x()], /too many --input files: 3 given, but the model has 2 inputs \(1 of them given by name\)/],
    ['a missing input', () => ['-i', x()], /no --input for the model's input 'scale'; pass --input scale=FILE\.npy \(inputs in order: 'x', 'scale'\)/],
    ['no --input at all', () => [], /no --input for the model's inputs 'x', 'scale'/],
    ['an input named twice', () => ['-i', `x=${x()}`, '-i', `x=${x()}`, '-i', scale()], /input 'x' is given twice/],
    ['a missing input file', () => ['-i', join(dir, 'nope.npy'), '-i', scale()], /cannot read .*nope\.npy: no such file/],
    ['a truncated .npy names the file', () => ['-i', join(dir, 'broken.npy'), '-i', scale()], /broken\.npy: truncated \.npy data/],
    ['a file that is not .npy', () => ['-i', model, '-i', scale()], /model\.onnx: not a \.npy file \(bad magic/],
    ['a shape the model does not take', () => ['-i', join(dir, 'x-wrong.npy'), '-i', scale()], /input 'x': .*x-wrong\.npy has shape \(3,\), the model expects \[1, 3\]/],
  ];
  for (const [name, args, pattern] of cases) {
    it(name, async () => {
      const r = await cli(['run', model, ...args(), '--out', outDir('errors')]);
      expectOneLineError(r, 1, pattern);
      expect(r.log.released).toBe(1);
      expect(r.log.feeds).toHaveLength(0);
    });
  }

  it('--out naming a file', async () => {
    const r = await cli(['run', model, '-i', x(), '-i', scale(), '--out', join(dir, 'a-file')]);
    expectOneLineError(r, 1, /cannot create directory .*a-file: a file with that name exists/);
    expect(r.log.feeds).toHaveLength(0); // checked before running the model
  });

  it('a runtime error during run() is one line and still releases the session', async () => {
    const r = await cli(['run', model, '-i', x(), '-i', scale(), '--out', outDir('err-run')], {
      run: () => {
        throw new ModelFormatError('node conv0: weight has 3 dims, Conv needs 4');
      },
    });
    expectOneLineError(r, 1, /^edgeprune: node conv0: weight has 3 dims, Conv needs 4\n$/);
    expect(r.log.released).toBe(1);
  });

  it('an output of a type .npy cannot hold', async () => {
    const r = await cli(['run', model, '-i', x(), '-i', scale(), '--out', outDir('err-type')], {
      run: () => ({ y: new FakeTensor('string', new Float32Array(0), [0]) }),
    });
    expectOneLineError(r, 1, /output 'y' is string, which edgeprune cannot write as \.npy/);
  });
});

describe('internal errors and --debug', () => {
  const boom = () => {
    throw new TypeError("Cannot read properties of undefined (reading 'dims')");
  };
  const args = () => ['run', model, '-i', join(dir, 'x.npy'), '-i', join(dir, 'scale.npy'), '--out', outDir('debug')];

  it('a bug is one line that says how to get the stack', async () => {
    expectOneLineError(await cli(args(), { run: boom }), 1, /^edgeprune: internal error: Cannot read properties of undefined \(reading 'dims'\) \(run again with --debug/);
  });

  it('--debug adds the stack trace', async () => {
    for (const r of [await cli(['--debug', ...args()], { run: boom }), await cli([...args(), '--debug'], { run: boom }), await cli(args(), { run: boom, env: { EDGEPRUNE_DEBUG: '1' } })]) {
      expect(r.code).toBe(1);
      const lines = r.stderr.trim().split('\n');
      expect(lines[0]).toBe("edgeprune: internal error: Cannot read properties of undefined (reading 'dims')");
      expect(lines[1]).toMatch(/^TypeError: /);
      expect(lines.length).toBeGreaterThan(2);
      expect(r.stderr).toMatch(/cli\.test\.ts/);
    }
  });

  it('user errors show the stack only with --debug', async () => {
    const plain = await cli(['inspect', join(dir, 'garbage.onnx')]);
    expect(plain.stderr.trim().split('\n')).toHaveLength(1);
    const debug = await cli(['inspect', join(dir, 'garbage.onnx'), '--debug']);
    expect(debug.stderr).toMatch(/^edgeprune: not an ONNX model.*\nModelFormatError: not an ONNX model.*\n\s+at /);
  });
});

describe('usage errors: one line, exit 2', () => {
  const cases: [string, string[], RegExp][] = [
    ['unknown command (with a suggestion)', ['inspct', 'm.onnx'], /^edgeprune: unknown command 'inspct' \(Did you mean inspect\?\)\n$/],
    ['missing MODEL', ['inspect'], /^edgeprune: missing required argument 'model'\n$/],
    ['missing --out', ['run', 'm.onnx', '-i', 'x.npy'], /^edgeprune: required option '-o, --out <DIR>' not specified\n$/],
    ['bad --wasm', ['run', 'm.onnx', '-o', 'd', '--wasm', 'fast'], /^edgeprune: option '--wasm <flavor>' argument 'fast' is invalid\. Allowed choices are simd, relaxed\.\n$/],
    ['unknown option', ['inspect', 'm.onnx', '--jsn'], /^edgeprune: unknown option '--jsn' \(Did you mean --json\?\)\n$/],
    ['extra argument', ['inspect', 'a.onnx', 'b.onnx'], /^edgeprune: too many arguments for 'inspect'/],
    ['--input with an empty NAME', ['run', 'FAKE-MODEL', '-i', '=x.npy', '-o', 'd'], /^edgeprune: --input =x\.npy has an empty NAME/],
  ];
  for (const [name, args, pattern] of cases) {
    it(name, async () => {
      const a = args.map((s) => (s === 'FAKE-MODEL' ? model : s));
      expectOneLineError(await cli(a), 2, pattern);
    });
  }

  it('no command prints the help to stderr, exit 2', async () => {
    const r = await cli([]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^Usage: edgeprune/);
  });
});

describe('help', () => {
  it('--help lists the commands on stdout, exit 0', async () => {
    const r = await cli(['--help']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^Usage: edgeprune \[options\] \[command\]/);
    expect(r.stdout).toMatch(/\n {2}inspect \[options\] <model> /);
    expect(r.stdout).toMatch(/\n {2}run \[options\] <model> /);
    expect(r.stdout).toMatch(/--debug/);
  });

  it('help run is run --help', async () => {
    const r = await cli(['help', 'run']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe((await cli(['run', '--help'])).stdout);
  });

  it('run --help documents --input, --out, --wasm', async () => {
    const r = await cli(['run', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/-i, --input <\[NAME=\]FILE\.npy>/);
    expect(r.stdout).toMatch(/-o, --out <DIR>/);
    expect(r.stdout).toMatch(/choices: "simd", "relaxed"/);
  });

  it('--version prints the package version', async () => {
    const r = await cli(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(JSON.parse(readFileSync('package.json', 'utf8')).version);
  });
});

describe('helpers', () => {
  it('output file names: file-safe, unique also across case', () => {
    expect(outputStems(['y', 'a/b', 'a:b', 'A:B', 'a_b_2', '..', '', 'ok-1.x_Y'])).toEqual(['y', 'a_b', 'a_b_2', 'A_B_3', 'a_b_2_2', '_..', '_', 'ok-1.x_Y']);
    expect(fileSafe('../../etc/passwd')).toBe('.._.._etc_passwd');
    expect(fileSafe('名前 x')).toBe('___x');
  });

  it('human units', () => {
    expect(si(999, 'FLOP')).toBe('999 FLOP');
    expect(si(1234567, 'FLOP')).toBe('1.2 MFLOP');
    expect(si(999_960, 'B')).toBe('1.0 MB');
    expect(si(3.2e12, 'FLOP')).toBe('3.2 TFLOP');
    expect(bytes(512)).toBe('512 bytes');
    expect(bytes(4938268)).toBe('4.9 MB (4,938,268 bytes)');
  });
});

describe('the built launcher (bin/edgeprune.mjs → dist/cli/edgeprune.mjs)', () => {
  // `npm test` builds dist/ before vitest starts; rebuilding it here would race the other test
  // files that import dist/ in parallel (the build replaces dist/chunks/)
  beforeAll(() => {
    expect(existsSync('dist/cli/edgeprune.mjs'), 'dist/ is missing: run `npm run build` (npm test does)').toBe(true);
  });

  it('--help', () => {
    const r = spawnSync(process.execPath, ['bin/edgeprune.mjs', '--help'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^Usage: edgeprune/);
    expect(r.stdout).toMatch(/inspect/);
    expect(r.stdout).toMatch(/run/);
  });

  it('an error sets the exit code and prints one line', () => {
    const r = spawnSync(process.execPath, ['bin/edgeprune.mjs', 'inspect', join(dir, 'nope.onnx')], { encoding: 'utf8', env: { ...process.env, EDGEPRUNE_DEBUG: '' } });
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(`edgeprune: cannot read ${join(dir, 'nope.onnx')}: no such file\n`);
    const u = spawnSync(process.execPath, ['bin/edgeprune.mjs', 'frobnicate'], { encoding: 'utf8' });
    expect(u.status).toBe(2);
    expect(u.stderr).toBe("edgeprune: unknown command 'frobnicate'\n");
  });

  it('runs a real model with the real runtime (the bundle finds wasm/ two levels up)', () => {
    // y = relu(x W^T + b), checked against a float64 computation
    const w = [0.5, -1, 2, 0.25, -0.5, 1, 1.5, -2];
    const b = [0.1, -0.2];
    const xs = [1, 2, 3, 4, -1, 0.5, 0, 2];
    const onnx = buildModel({
      nodes: [
        { op: 'Gemm', inputs: ['x', 'w', 'b'], outputs: ['h'], attrs: { transB: 1 } },
        { op: 'Relu', inputs: ['h'], outputs: ['y/relu'] },
      ],
      inputs: [{ name: 'x', dims: [2, 4] }],
      outputs: ['y/relu'],
      initializers: [
        { name: 'w', dims: [2, 4], data: new Float32Array(w) },
        { name: 'b', dims: [2], data: new Float32Array(b) },
      ],
    });
    const m = join(dir, 'real.onnx');
    writeFileSync(m, onnx);
    f32(join(dir, 'real-x.npy'), [2, 4], xs);
    const out = join(dir, 'out-bin');
    const r = spawnSync(process.execPath, ['bin/edgeprune.mjs', 'run', m, '-i', `x=${join(dir, 'real-x.npy')}`, '-o', out], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`wrote ${join(out, 'y_relu.npy')}  (output 'y/relu', float32 [2, 2])\n`);
    const y = readOut(out, 'y_relu.npy');
    expect(y.dims).toEqual([2, 2]);
    const want: number[] = [];
    for (let i = 0; i < 2; i++) for (let o = 0; o < 2; o++) want.push(Math.max(0, b[o]! + [0, 1, 2, 3].reduce((s, k) => s + xs[i * 4 + k]! * w[o * 4 + k]!, 0)));
    Array.from(y.data as Float32Array).forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 5));
  });

  it('--wasm relaxed on a Node without relaxed SIMD says how to enable it', () => {
    const args = ['bin/edgeprune.mjs', 'run', join(dir, 'real.onnx'), '-i', join(dir, 'real-x.npy'), '-o', join(dir, 'out-relaxed'), '--wasm', 'relaxed'];
    const plain = spawnSync(process.execPath, args, { encoding: 'utf8' });
    if (Number(process.versions.node.split('.')[0]) === 20) {
      expect(plain.status).toBe(1);
      expect(plain.stderr).toBe('edgeprune: --wasm relaxed needs relaxed SIMD, which this Node lacks: on Node 20 run `node --experimental-wasm-relaxed-simd bin/edgeprune.mjs ...`, or leave --wasm out to use the best build available\n');
    } else {
      expect(plain.status).toBe(0); // Node 21+ has relaxed SIMD on by default
    }
    const flagged = spawnSync(process.execPath, ['--experimental-wasm-relaxed-simd', ...args], { encoding: 'utf8' });
    expect(flagged.stderr).toBe('');
    expect(flagged.status).toBe(0);
    expect(Array.from(readOut(join(dir, 'out-relaxed'), 'y_relu.npy').data as Float32Array)).toEqual(Array.from(readOut(join(dir, 'out-bin'), 'y_relu.npy').data as Float32Array).map((v) => expect.closeTo(v, 5)));
  });
});
