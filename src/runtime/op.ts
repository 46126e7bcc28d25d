// The contract between the runtime and each operator implementation (src/runtime/ops/*).
// An OpDef knows its output shapes and builds an Executor for one node once per session:
// weights are packed there, tables precomputed, so run() only calls kernels.
import type { ConstTensor, Node } from '../graph/ir.js';
import type { Kernels } from '../wasm/kernels.js';
import type { FusedActivation } from '../kernels/activation.js';
import type { KernelPreference } from './kernel-choice.js';

/** One input of a node as the planner sees it: concrete dims, and the value when constant. */
export interface OpInput {
  name: string;
  dims: number[];
  constant?: ConstTensor;
}

export interface BuildContext {
  k: Kernels;
  node: Node;
  /** undefined for an omitted optional input ('' in ONNX). */
  inputs: (OpInput | undefined)[];
  outputDims: number[][];
  opset: number;
  /** Set when the planner fused a following activation into this node (Conv, Gemm, MatMul). */
  activation?: FusedActivation;
  /**
   * Set when the planner folded a following BatchNormalization, a scalar Mul-then-Add (an affine
   * block), or both, into this node (Conv, ConvTranspose, Gemm): y = layer(x) * scale[c] + shift[c]
   * per output channel c. `folded` names what was folded, for the kernel's label ('+bn').
   */
  batchNorm?: { scale: Float32Array; shift: Float32Array; folded?: string };
  /** Dense or sparse weights kernel for this node (SessionOptions.kernels); 'auto' lets the cost model decide. */
  preference: KernelPreference;
  /** A wasm block the executor owns for its tables or constants; freed with the session. */
  alloc(bytes: number): number;
  /**
   * Shape-independent state of this node (packed weights), made once per session and reused by
   * the plans for other input dims: `key` tells apart several such objects of one node.
   */
  once<T>(key: string, make: () => T): T;
}

export interface Executor {
  /** What runs, for session.info(): e.g. 'conv:winograd', 'gemm', 'alias'. */
  kernel: string;
  /** Why this kernel (dense or sparse: the weights' zeros and the predicted cost), for session.info(). */
  choice?: string;
  /** Floating-point operations per run (multiply-add = 2). */
  flops: number;
  /** Bytes of scratch the run needs (planned in the arena, live only during this node). */
  scratchBytes: number;
  /**
   * Output 0 may share storage with this input when the input dies here: elementwise ops that
   * read each element before writing it.
   */
  inPlaceInput?: number;
  /** Output 0 is input 0 reinterpreted (Reshape family, fused activations): same storage, no work. */
  alias?: boolean;
  /**
   * With `alias`: the input output 0 shares storage with, when not input 0, and the only input
   * this node reads (a node absorbed into a fused elementwise chain).
   */
  aliasInput?: number;
  /**
   * Pointers of every input (a constant input not listed in the op's `constantInputs` is uploaded
   * once as float32 by the planner; listed ones and omitted ones get 0), of every output, and of
   * the scratch block.
   */
  run(inputs: number[], outputs: number[], scratch: number): void;
}

export interface OpDef {
  /** Output dims from input dims and constant inputs; throws a typed error naming the node on a mismatch. */
  shape(node: Node, inputs: (OpInput | undefined)[], opset: number): number[][];
  build(ctx: BuildContext): Executor;
  /**
   * Inputs the executor takes from `ctx.inputs[i].constant` itself when they are constant (weights
   * it packs, shape tensors, indices): the planner does not upload those. Whether a runtime value
   * is acceptable there is the executor's call (it throws UnsupportedOpError when not).
   */
  constantInputs?: number[];
}
