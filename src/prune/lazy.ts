// The pruning methods as the main entry ('edgeprune') exports them. They are all asynchronous
// (they run on the wasm kernels), so each loads the pruning code on its first call: importing
// 'edgeprune' to run a model, which every cold start does, parses none of it (~28 kB minified,
// about 2 ms of a cold start on a 2-core VM). The bundles put src/prune/ in a chunk of its own.
import type * as Prune from './index.js';
import type * as Calibration from './calibration.js';

let prune: Promise<typeof Prune> | undefined;
const load = () => (prune ??= import('./index.js'));

/** The method `name`, loading the pruning chunk on its first call. */
function lazy<K extends Exclude<keyof typeof Prune, 'channelPrune'>>(name: K): (typeof Prune)[K] {
  return (async (...a: unknown[]) => ((await load())[name] as (...x: unknown[]) => unknown)(...a)) as (typeof Prune)[K];
}

export const l1Unstructured = lazy('l1Unstructured');
export const randomUnstructured = lazy('randomUnstructured');
export const globalUnstructured = lazy('globalUnstructured');
export const wandaUnstructured = lazy('wandaUnstructured');
export const nmSparsity = lazy('nmSparsity');
export const blockSparsity = lazy('blockSparsity');
export const lnStructured = lazy('lnStructured');
/** lnStructured under the name the CLI and the README use for channel pruning. */
export const channelPrune = lnStructured;
export const collectActivationNorms: typeof Calibration.collectActivationNorms = async (...a) => (await import('./calibration.js')).collectActivationNorms(...a);
export { remove } from './remove.js';
