// The pruning methods as the main entry ('edgeprune') exports them. They are all asynchronous
// (they run on the wasm kernels), so each loads the pruning code on its first call: importing
// 'edgeprune' to run a model, which every cold start does, parses none of it (~28 kB minified,
// about 2 ms of a cold start on a 2-core VM). The bundles put src/prune/ in a chunk of its own.
import type * as Prune from './index.js';
import type * as Calibration from './calibration.js';

let prune: Promise<typeof Prune> | undefined;
const load = () => (prune ??= import('./index.js'));

export const l1Unstructured: typeof Prune.l1Unstructured = async (...a) => (await load()).l1Unstructured(...a);
export const randomUnstructured: typeof Prune.randomUnstructured = async (...a) => (await load()).randomUnstructured(...a);
export const globalUnstructured: typeof Prune.globalUnstructured = async (...a) => (await load()).globalUnstructured(...a);
export const wandaUnstructured: typeof Prune.wandaUnstructured = async (...a) => (await load()).wandaUnstructured(...a);
export const nmSparsity: typeof Prune.nmSparsity = async (...a) => (await load()).nmSparsity(...a);
export const blockSparsity: typeof Prune.blockSparsity = async (...a) => (await load()).blockSparsity(...a);
export const lnStructured: typeof Prune.lnStructured = async (...a) => (await load()).lnStructured(...a);
/** lnStructured under the name the CLI and the README use for channel pruning. */
export const channelPrune = lnStructured;
export const collectActivationNorms: typeof Calibration.collectActivationNorms = async (...a) => (await import('./calibration.js')).collectActivationNorms(...a);
export { remove } from './remove.js';
