/** Backtest: the engine over history (API) or a CSV series (CLI). */
export { backtest, parseRuleYaml, MAX_BACKTEST_STEPS, type BacktestFiring, type BacktestOptions, type BacktestResult } from './backtest.js';
export { bucketOf, parseSeriesCsv, seriesKpi, seriesSource, SERIES_KPI, type SeriesKind, type SeriesRow } from './series.js';
