// Small helpers shared by the operator implementations.
import { ModelFormatError, UnsupportedOpError } from '../../errors.js';
import type { ConstTensor, Node } from '../../graph/ir.js';
import { toFloat32, toNumbers } from '../../graph/tensor.js';
import type { OpInput } from '../op.js';

export function size(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}

/** A ModelFormatError about a node, named as every message names one: `node 'name' (Op): what`. */
export function nodeError(node: Node, what: string): ModelFormatError {
  return new ModelFormatError(`node '${node.name}' (${node.op}): ${what}`);
}

/** The input at index i, which the model must provide. */
export function need(node: Node, inputs: (OpInput | undefined)[], i: number): OpInput {
  const v = inputs[i];
  if (!v) throw new ModelFormatError(`node '${node.name}' (${node.op}) needs input ${i}, which is missing`);
  return v;
}

/** The constant value of input i (weights, shapes, axes), or a typed error saying it must be constant. */
export function constInput(node: Node, inputs: (OpInput | undefined)[], i: number, what: string): ConstTensor {
  const v = need(node, inputs, i);
  if (!v.constant) throw new UnsupportedOpError(node.op, node.name, `${what} (input ${i}, '${v.name}') is computed at run time; edgeprune needs it constant`);
  return v.constant;
}

export function optionalConstNumbers(node: Node, inputs: (OpInput | undefined)[], i: number, what: string): number[] | undefined {
  if (!inputs[i]) return undefined;
  return toNumbers(constInput(node, inputs, i, what));
}

export function constFloats(node: Node, inputs: (OpInput | undefined)[], i: number, what: string): Float32Array {
  return toFloat32(constInput(node, inputs, i, what));
}

/** Normalises a possibly negative axis for a tensor of `rank` dims. */
export function axisOf(node: Node, axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank) throw nodeError(node, `axis ${axis} is out of range for rank ${rank}`);
  return a;
}

export function fmt(dims: readonly number[]): string {
  return `[${dims.join(', ')}]`;
}
