// The pruning methods, in torch.nn.utils.prune's vocabulary.
export { l1Unstructured, randomUnstructured, globalUnstructured, nmSparsity, blockSparsity, wandaUnstructured, remove } from './unstructured.js';
export { lnStructured, channelPrune } from './structured.js';
export type { PruneResult, PruneReport, LayerPruneReport, LayerFilter } from './types.js';
