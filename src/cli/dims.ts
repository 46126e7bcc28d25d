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

/**
 * Every --dim names a symbolic dim of the model's inputs: a misspelt name would otherwise be
 * ignored and its dim planned at 1 (a 48x1 image), with no hint why.
 */
export function checkDimNames(given: Record<string, number>, inputs: readonly { shape: readonly (number | string)[] }[]): void {
  const known = [...new Set(inputs.flatMap((i) => i.shape.filter((d): d is string => typeof d === 'string')))];
  const unknown = Object.keys(given).find((n) => !known.includes(n));
  if (unknown === undefined) return;
  throw new CliError(`--dim ${unknown}: the model's inputs have no symbolic dim of that name; ${known.length ? `theirs are ${known.join(', ')}` : 'their dims are all fixed'}`);
}
