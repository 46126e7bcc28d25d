// Every failure a caller can cause is one of these: `code` is stable for programs, `message`
// says what is wrong and what to do about it.

export class EdgepruneError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A tensor, buffer or attribute has the wrong shape, size or value for the operation. */
export class ShapeError extends EdgepruneError {
  constructor(message: string) {
    super('E_SHAPE', message);
  }
}

/** An argument is outside what the operation supports (an unknown mode, a negative stride, ...). */
export class ArgumentError extends EdgepruneError {
  constructor(message: string) {
    super('E_ARGUMENT', message);
  }
}

/** The WebAssembly kernels could not be loaded or do not fit this host. */
export class WasmLoadError extends EdgepruneError {
  constructor(message: string) {
    super('E_WASM_LOAD', message);
  }
}

/**
 * The kernels' memory cannot grow to what an operation needs: over SessionOptions.memoryBudget,
 * over the 4 GiB of wasm32, or refused by the host. `neededBytes` and `limitBytes` say by how much
 * when known.
 */
export class OutOfMemoryError extends EdgepruneError {
  readonly neededBytes?: number;
  readonly limitBytes?: number;
  constructor(message: string, sizes: { neededBytes?: number; limitBytes?: number } = {}) {
    super('E_OUT_OF_MEMORY', message);
    this.neededBytes = sizes.neededBytes;
    this.limitBytes = sizes.limitBytes;
  }
}

/** A session was used after release(): create a new one. */
export class SessionReleasedError extends EdgepruneError {
  constructor(message: string) {
    super('E_RELEASED', message);
  }
}

/** A model file is not a readable ONNX / edgeprune model (garbage, truncated, inconsistent). */
export class ModelFormatError extends EdgepruneError {
  constructor(message: string) {
    super('E_MODEL_FORMAT', message);
  }
}

/** The model uses an operator (or an operator feature) edgeprune does not implement. */
export class UnsupportedOpError extends EdgepruneError {
  readonly op: string;
  readonly node: string;
  constructor(op: string, node: string, detail = '') {
    super('E_UNSUPPORTED_OP', `unsupported operator ${op} at node '${node}'${detail ? `: ${detail}` : ''}; see the README for the supported operators, or re-export the model without it`);
    this.op = op;
    this.node = node;
  }
}

/** A model that cannot be compiled for edgeprune/runtime (src/compile/): its run is not a fixed list of kernel calls. */
export class CompileError extends EdgepruneError {
  constructor(message: string) {
    super('E_COMPILE', message);
  }
}

/** The feeds given to run() do not match the model: missing, extra, wrong dtype or shape. */
export class InputError extends EdgepruneError {
  constructor(message: string) {
    super('E_INPUT', message);
  }
}

/** A .npy file cannot be read or written: bad magic, truncated, unsupported dtype or layout, size mismatch. */
export class NpyError extends EdgepruneError {
  constructor(message: string) {
    super('E_NPY', message);
  }
}

/** Training data that cannot be used: X and y of different lengths, a label out of range, a non-finite value. */
export class DataError extends EdgepruneError {
  constructor(message: string) {
    super('E_DATA', message);
  }
}

/** Training diverged (a NaN or infinite loss): the weights are left at their last good values. */
export class TrainingError extends EdgepruneError {
  constructor(message: string) {
    super('E_TRAINING', message);
  }
}

/** A budget given to `fit` cannot be met by any pruning it is allowed to do: the message says the smallest reachable value. */
export class BudgetError extends EdgepruneError {
  /** Each budget that cannot be met: its limit and the smallest value the most aggressive allowed plan reached. */
  readonly unmet: { budget: string; limit: number; smallest: number }[];
  constructor(message: string, unmet: { budget: string; limit: number; smallest: number }[] = []) {
    super('E_BUDGET', message);
    this.unmet = unmet;
  }
}
