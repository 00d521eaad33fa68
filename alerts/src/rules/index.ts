/** Rules as code: the format, the loader and the checks. */
export type { ChangeRule, DeadmanRule, Direction, Rule, TimeOfDayWindow } from './schema.js';
export { parseDuration, formatDuration } from './duration.js';
export { needsMinuteWindows, type MinuteAligned } from './validate.js';
export { formatProblem, parseRuleDocument, templatesOf, type RuleProblem } from './parse.js';
export { RulesLoader, type LoaderLogger, type RuleProvider, type RulesLoaderOptions } from './loader.js';
