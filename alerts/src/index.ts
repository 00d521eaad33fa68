/**
 * @siyu-pulse/alerts — rules, evaluation and notifiers. Wired by the backend's
 * composition root; see contract.ts for the boundary.
 */
export * from './contract.js';
export * from './notify/index.js';
export * from './engine/index.js';
// rules/ also exports a rule-duration formatter; notify's formatDuration (KPI values) wins the plain name.
export { formatDuration as formatRuleDuration, formatProblem, needsMinuteWindows, parseDuration, parseRuleDocument, RulesLoader, templatesOf } from './rules/index.js';
export type { ChangeRule, DeadmanRule, Direction, LoaderLogger, MinuteAligned, Rule, RuleProblem, RuleProvider, RulesLoaderOptions, TimeOfDayWindow } from './rules/index.js';
export * from './calendar/index.js';
export * from './backtest/index.js';
