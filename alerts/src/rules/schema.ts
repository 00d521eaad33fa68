/**
 * The rule file format (YAML, snake_case) and the normalised `Rule` the engine runs
 * (camelCase, durations in ms, every default applied). Each rule kind keeps its own schema
 * in its folder under ../kinds/ (change, seasonal, target, deadman); this module is the
 * file-level shape and the union of the built-in kinds. The zod schemas check shape only;
 * catalogue checks (does the KPI exist, can it be split that way) live in validate.ts.
 */
import { z } from 'zod';
import type { ChangeRule } from '../kinds/change/schema.js';
import type { DeadmanRule } from '../kinds/deadman/schema.js';
import type { TargetRule } from '../kinds/target/schema.js';

export { DIMENSIONS, type Direction, type RuleCommon, type ShapeIssue, type TimeOfDayWindow } from '../kinds/common/schema.js';
export { BASELINE_KINDS, changeRuleSchema, normaliseChange, type ChangeRule } from '../kinds/change/schema.js';
export type { CalendarMode, NoiseBand, SeasonalBaseline } from '../kinds/seasonal/schema.js';
export { deadmanRuleSchema, normaliseDeadman, type DeadmanRule } from '../kinds/deadman/schema.js';
export { normaliseTarget, targetRuleSchema, type TargetRule } from '../kinds/target/schema.js';

/** The built-in kinds. A kind added through the registry (kinds/registry.ts) runs as its own type. */
export type Rule = ChangeRule | DeadmanRule | TargetRule;

/** `rules:` and, in a file such as generic.yaml, `templates:` that rules name with `extends:`. */
export const ruleFileSchema = z.preprocess(
  // A file of templates only (generic.yaml) needs no `rules:`.
  (doc) => (typeof doc === 'object' && doc !== null && 'templates' in doc && !('rules' in doc) ? { ...doc, rules: [] } : doc),
  z.strictObject({ rules: z.array(z.unknown()), templates: z.array(z.unknown()).optional() }),
);

