/** Short Chinese texts for alert events, worded by each rule kind (kinds/<kind>/summary.ts). */
import { kindOf } from '../kinds/registry.js';
import type { SummaryInput } from '../kinds/types.js';
import type { Rule } from '../rules/schema.js';
import { DIM_ZH, subjectZh } from '../wording.js';

export { DIM_ZH, subjectZh };
export { changeZh } from '../kinds/change/summary.js';
export type { SummaryInput };

export function summaryZh(s: SummaryInput<Rule>): string {
  return kindOf(s.rule).summary(s);
}
