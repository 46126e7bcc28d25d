// `edgeprune/fit`: fitting a model to size, memory, latency and FLOP budgets (src/fit). A separate
// entry, like edgeprune/train, so inference users do not load it.
export * from './fit/index.js';

// Loads the main entry's modules too: the three entries then share one chunk (dist/chunks/), so
// importing 'edgeprune' reads one file of code instead of three (a cold start pays per module file).
import './index.js';
