// `edgeprune run MODEL --input [NAME=]FILE.npy ... --out DIR [--wasm simd|relaxed]`: feeds .npy
// files to the model and writes each output to DIR/<output name>.npy.
import { join } from 'node:path';
import { NpyError } from '../errors.js';
import { readNpy, writeNpy, type NpyArray } from '../io/npy.js';
import { NPY_DTYPES, isNpyDtype } from '../io/npy-dtype.js';
import { hasRelaxedSimd } from '../wasm/features.js';
import { checkDimNames, parseDims } from './dims.js';
import type { CommandContext } from './context.js';
import { CliError } from './errors.js';
import { ensureDir, readBytes, writeBytes } from './files.js';
import { dimsText } from './format.js';
import { asFloat32, assignInputs, checkDims } from './inputs.js';
import { outputStems } from './outputs.js';
import type { CliSession, CliTensor, CliRuntime, WasmChoice, KernelChoice } from './session-types.js';

export interface RunOptions {
  input: string[];
  out: string;
  wasm?: WasmChoice;
  kernels?: KernelChoice;
  /** NAME=VALUE for symbolic dims (repeatable) */
  dim?: string[];
}

export async function run(ctx: CommandContext, model: string, opts: RunOptions): Promise<void> {
  if (opts.wasm === 'relaxed' && !hasRelaxedSimd()) {
    throw new CliError('--wasm relaxed needs relaxed SIMD, which this Node lacks: on Node 20 run `node --experimental-wasm-relaxed-simd bin/edgeprune.mjs ...`, or leave --wasm out to use the best build available');
  }
  const modelBytes = await readBytes(model);
  const runtime = await ctx.runtime();
  const dims = parseDims(opts.dim);
  const session = await runtime.InferenceSession.create(modelBytes, { ...(opts.wasm ? { wasm: opts.wasm } : {}), ...(opts.kernels ? { kernels: opts.kernels } : {}), freeDimensionOverrides: dims });
  try {
    checkDimNames(dims, session.inputMetadata);
    const feeds = await readFeeds(ctx, session, runtime, opts.input);
    await ensureDir(opts.out); // before running: a bad --out should not cost a model run
    const results = await session.run(feeds);
    const names = session.outputNames;
    const stems = outputStems(names);
    for (let i = 0; i < names.length; i++) {
      const name = names[i]!;
      const tensor = results[name];
      if (!tensor) throw new CliError(`the model produced no value for its output '${name}'`);
      const path = join(opts.out, `${stems[i]}.npy`);
      await writeBytes(path, toNpy(name, tensor));
      ctx.stdout.write(`wrote ${path}  (output '${name}', ${tensor.type} ${dimsText(tensor.dims)})\n`);
    }
  } finally {
    await session.release();
  }
}

async function readFeeds(ctx: CommandContext, session: CliSession, runtime: CliRuntime, specs: string[]): Promise<Record<string, CliTensor>> {
  const assignments = await assignInputs(specs, session.inputNames);
  const expected = new Map(session.inputMetadata.map((v) => [v.name, v]));
  const feeds: Record<string, CliTensor> = {};
  for (const a of assignments) {
    const arr = await readNpyFile(a.file);
    checkDims(a, arr.dims, expected.get(a.name)?.shape);
    const data = asFloat32(arr, a, (text) => ctx.stderr.write(`edgeprune: ${text}\n`), expected.get(a.name)?.type);
    feeds[a.name] = new runtime.Tensor('float32', data, arr.dims);
  }
  return feeds;
}

async function readNpyFile(file: string): Promise<NpyArray> {
  const bytes = await readBytes(file);
  try {
    return readNpy(bytes);
  } catch (e) {
    if (e instanceof NpyError) throw new NpyError(`${file}: ${e.message}`);
    throw e;
  }
}

function toNpy(name: string, t: CliTensor): Uint8Array {
  const data: unknown = t.data;
  if (isNpyDtype(t.type) && NPY_DTYPES[t.type].is(data)) return writeNpy(t.type, [...t.dims], data);
  throw new CliError(`output '${name}' is ${t.type}, which edgeprune cannot write as .npy (supported: ${Object.keys(NPY_DTYPES).join(', ')})`);
}
