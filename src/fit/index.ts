// Fit to a budget: per-group channel ratios, per-layer sparsity and storage chosen to meet size,
// peak-memory, latency and FLOP budgets with the least predicted damage, accuracy recovered from
// calibration data, every budget verified on the written file and a running session.
export { fit, type FitToBudgetOptions, type FitResult, type FitLayerReport, type FitFinetune, type Measured } from './fit.js';
export { parseSize, parseLatency, parseFlops, parseBudgets, formatBudget, type Budgets, type BudgetInput, type BudgetKind } from './budget.js';
export type { CalibrationData } from './runner.js';
export type { Recovery } from './reconstruct.js';
export type { Fidelity } from './fidelity.js';
export { cholesky, choleskySolve } from './linalg.js';
export { elasticArtifact, elasticSpec, measureElastic, ELASTIC_WIDTHS, type ElasticLevel, type ElasticOptions, type ElasticArtifactOptions, type ElasticMeasureOptions } from './elastic.js';
export { fitReportHtml, fitLayerTable, fitSummaryTable, fitFidelityTable } from './report.js';
