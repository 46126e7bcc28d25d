// run()'s optional second argument, as onnxruntime-web takes it: the outputs to return (a list of
// names, or an object keyed by output name) or run options. Every output is computed either way
// (the plan runs the whole graph); fetches only choose which ones come back.
import { InputError } from '../errors.js';

const list = (names: readonly string[]) => names.map((n) => `'${n}'`).join(', ');

/** The output names to return, or undefined for all of them. */
export function readFetches(outputs: readonly string[], arg: unknown): Set<string> | undefined {
  if (arg === undefined || arg === null) return undefined;
  let names: string[];
  if (Array.isArray(arg)) {
    if (arg.length === 0) throw new InputError(`run(feeds, fetches): fetches is an empty list; name the outputs to return (${list(outputs)}), or leave it out for all`);
    names = arg.map((n) => String(n));
  } else if (typeof arg === 'object') {
    // an object is fetches when it names any output (onnxruntime's rule), else run options, which
    // change nothing here (logging and tags: edgeprune logs nothing)
    names = Object.keys(arg);
    if (!names.some((n) => outputs.includes(n))) return undefined;
  } else {
    throw new InputError(`run(feeds, fetches): fetches must be a list of output names or an object keyed by them, got ${typeof arg}`);
  }
  const unknown = names.filter((n) => !outputs.includes(n));
  if (unknown.length) throw new InputError(`unknown output${unknown.length > 1 ? 's' : ''} ${list(unknown)} in fetches; the model's outputs are ${list(outputs)}`);
  return new Set(names);
}
