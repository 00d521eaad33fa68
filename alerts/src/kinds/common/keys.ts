import type { Split } from '../types.js';

/** One alert instance: a rule and a split value (or its total). */
export function alertKeyOf(ruleId: string, split: Split): string {
  return split ? `${ruleId}|${split.dim}=${split.value}` : `${ruleId}|total`;
}
