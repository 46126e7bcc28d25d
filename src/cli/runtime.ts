// Where the CLI gets the real runtime. Imported on first use so `--help` and usage errors stay
// instant; the bundle still contains it (esbuild inlines literal dynamic imports).
import type { CliRuntime } from './session-types.js';

export async function loadRuntime(): Promise<CliRuntime> {
  const [{ InferenceSession }, { Tensor }] = await Promise.all([import('../runtime/session.js'), import('../runtime/tensor.js')]);
  return { InferenceSession, Tensor };
}
