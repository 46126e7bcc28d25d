// The pruning methods, in torch.nn.utils.prune's vocabulary (remove, synchronous, is exported from
// remove.ts by lazy.ts; the main entry loads this module on the first call of a method).
export { l1Unstructured, randomUnstructured, globalUnstructured, nmSparsity, blockSparsity, wandaUnstructured } from './unstructured.js';
export { lnStructured, channelPrune } from './structured.js';
export type { PruneResult, PruneReport, LayerPruneReport, LayerFilter } from './types.js';
