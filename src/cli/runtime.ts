// Where the CLI gets the real runtime. Imported on first use so `--help` and usage errors stay
// instant; the bundle still contains it (esbuild inlines literal dynamic imports).
// A compiled model (edgeprune compile) runs in edgeprune/runtime's session: inspect, run, bench and
// eval take it like any model, at the dims and with the kernels it was compiled for.
import type { CliRuntime, CliSession, ModelInfo } from './session-types.js';
import { CliError } from './errors.js';

export async function loadRuntime(): Promise<CliRuntime> {
  const [{ InferenceSession }, { Tensor }, { isCompiled }] = await Promise.all([import('../runtime/session.js'), import('../runtime/tensor.js'), import('../format/read-compiled.js')]);
  return {
    InferenceSession: {
      async create(bytes, options = {}) {
        if (!isCompiled(bytes)) return InferenceSession.create(bytes, options);
        if (options.kernels && options.kernels !== 'auto') throw new CliError(`--kernels ${options.kernels}: a compiled model runs the kernels chosen when it was compiled; compile it again with --kernels ${options.kernels}`);
        const { InferenceSession: Compiled } = await import('../runtime-compiled/session.js');
        const s = await Compiled.create(bytes, { wasm: options.wasm });
        // its input dims are all fixed: a --dim is refused by the commands' own check (no symbolic dim of that name)
        const info = () => s.info();
        const modelInfo = (): ModelInfo => {
          const { params, nonZeroParams, inputs, outputs, opCounts, opset, producer } = info();
          return { params, nonZeroParams, inputs, outputs, opCounts, opset, producer };
        };
        return Object.assign(s, { modelInfo }) as unknown as CliSession;
      },
    },
    Tensor,
  };
}
