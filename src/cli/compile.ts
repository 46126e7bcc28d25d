// `edgeprune compile MODEL --out OUT.epc`: the model planned and packed for fixed input dims,
// written as a compiled model (src/compile/) for edgeprune/runtime, the small inference entry.
import type { CommandContext } from './context.js';
import { CliError } from './errors.js';
import { readBytes, writeBytes } from './files.js';
import { bytes as fmtBytes, table } from './format.js';
import { parseDims } from './dims.js';
import type { KernelChoice } from './session-types.js';

export interface CompileCliOptions {
  out: string;
  dim?: string[];
  kernels?: KernelChoice;
  wasm?: 'simd' | 'relaxed';
  width?: string;
}

export async function compileCommand(ctx: CommandContext, model: string, opts: CompileCliOptions): Promise<void> {
  if (opts.out.toLowerCase().endsWith('.onnx')) throw new CliError(`--out ${opts.out}: a compiled model is not ONNX; name it OUT.epc (edgeprune export writes ONNX)`);
  const width = opts.width === undefined ? undefined : Number(opts.width);
  if (width !== undefined && !(width > 0 && width <= 1)) throw new CliError(`--width ${opts.width}: give the fraction of channels to keep, in (0, 1]`);
  const input = await readBytes(model);
  const { compileModel } = await import('../compile/compile.js');
  const { readCompiled } = await import('../format/read-compiled.js');
  const output = await compileModel(input, { freeDimensionOverrides: parseDims(opts.dim), kernels: opts.kernels, wasm: opts.wasm ?? 'simd', width });
  await writeBytes(opts.out, output);
  const { plan } = readCompiled(output);
  const dims = (vs: { name: string; dims: number[] }[]) => vs.map((v) => `${v.name} [${v.dims.join(', ')}]`).join(', ');
  ctx.stdout.write(`${table([
    ['read', `${model}  (${fmtBytes(input.byteLength)})`],
    ['wrote', `${opts.out}  (compiled model, ${fmtBytes(output.byteLength)})`],
    ['inputs', dims(plan.inputs)],
    ['outputs', dims(plan.outputs)],
    ['memory', `${fmtBytes(plan.memoryBytes)} of wasm memory, ${plan.calls} kernel calls a run, ${opts.wasm ?? 'simd'} build`],
    ['load it', "import { InferenceSession } from 'edgeprune/runtime'  (runs on either kernel build of this edgeprune version)"],
  ])}\n`);
}
