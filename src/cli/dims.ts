// --dim NAME=VALUE options: values for a model's symbolic dims (onnxruntime's freeDimensionOverrides).
import { CliError } from './errors.js';

export function parseDims(values: readonly string[] | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values ?? []) {
    const m = /^(.+)=(\d+)$/.exec(v);
    if (!m || Number(m[2]) < 1) throw new CliError(`--dim ${v}: write NAME=VALUE with a positive integer, e.g. --dim batch=8`);
    out[m[1]] = Number(m[2]);
  }
  return out;
}
