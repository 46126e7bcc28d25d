// `edgeprune/fit`: fitting a model to size, memory, latency and FLOP budgets (src/fit). A separate
// entry, like edgeprune/train, so inference users do not load it.
export * from './fit/index.js';
