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

/**
 * The inputs' symbolic dims past the batch axis that `given` (--dim) leaves unset, in order of
 * appearance: they are planned at 1 (a batch of 1 is the figure people expect; a 1x1 image is not).
 */
export function unsetDims(inputs: readonly { dims: readonly (number | string)[] }[], given: Record<string, number>): string[] {
  const names = inputs.flatMap((v) => v.dims.slice(1).filter((d): d is string => typeof d === 'string'));
  return [...new Set(names)].filter((n) => !(n in given));
}

/** " (e.g. --dim a=224 --dim b=224)" for every unset dim: the model needs them all (one alone still plans the others at 1). */
export function dimExample(unset: readonly string[]): string {
  return unset.length ? ` (e.g. ${unset.map((n) => `--dim ${n}=224`).join(' ')})` : '';
}

/**
 * Why a model has no plan, for the command line: its symbolic dims at 1 (no --dim) make some
 * layer impossible (a pool larger than a 1x1 map); real sizes come with --dim.
 */
export function unplannedText(inputs: readonly { dims: readonly (number | string)[] }[], given: Record<string, number>, reason: string): string {
  const unset = unsetDims(inputs, given);
  return `with ${unset.length ? unset.join(', ') : 'its symbolic dims'} at 1 the model does not fit (${reason}); give real sizes with --dim NAME=VALUE${dimExample(unset)}`;
}
