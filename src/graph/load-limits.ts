// How much tensor memory a loader (importOnnx, readArtifact) may allocate for one file. A valid
// file's tensors decode to at most a few times its own size (float16 widens 2×, packed int64
// varints 8×), but a few bytes can also declare a huge sparse tensor, a run of zeros or an int8
// tensor with inflated dims; without a bound such a file takes the host down (found by the
// fuzzer, test/fuzz). So the decoded tensors of one file may take at most
// max(maxTensorBytes, 8 × the file's size) bytes; past that the loader throws OutOfMemoryError
// before allocating, and a caller whose model really is that large raises maxTensorBytes.
import { ArgumentError, OutOfMemoryError } from '../errors.js';

/** The default of LoadOptions.maxTensorBytes: 1 GiB. */
export const DEFAULT_MAX_TENSOR_BYTES = 2 ** 30;

/** Bytes of decoded tensors per byte of file that are always allowed (packed int64 varints). */
export const FILE_EXPANSION = 8;

export interface LoadOptions {
  /** Bytes the tensors decoded from one file may take, at least (default 1 GiB; see load-limits.ts). */
  maxTensorBytes?: number;
}

/** Counts the bytes a loader allocates for tensors and refuses the one that would pass the limit. */
export class TensorBudget {
  readonly limit: number;
  used = 0;

  constructor(fileBytes: number, options: LoadOptions = {}) {
    const max = options.maxTensorBytes ?? DEFAULT_MAX_TENSOR_BYTES;
    if (!(max >= 0)) throw new ArgumentError(`maxTensorBytes must be a non-negative number of bytes, got ${max}`);
    this.limit = Math.max(max, FILE_EXPANSION * fileBytes);
  }

  /** Call before allocating `bytes` for the tensor `what`. */
  spend(bytes: number, what: string): void {
    if (this.used + bytes > this.limit) {
      throw new OutOfMemoryError(
        `${what} needs ${bytes} bytes, and the tensors decoded so far ${this.used}: over the ${this.limit}-byte limit for one model file (maxTensorBytes, default 1 GiB). The file is most likely corrupt; if the model really is this large, pass a larger maxTensorBytes`,
        { neededBytes: this.used + bytes, limitBytes: this.limit },
      );
    }
    this.used += bytes;
  }
}
