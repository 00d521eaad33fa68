/**
 * The rule kinds in force. The parser reads a rule with the module of its YAML `kind:`; the
 * engine evaluates, words and notifies through the first module that owns the normalised rule
 * (most specific first: seasonal refines change). A new kind is one folder under kinds/ and
 * one line here (or `registerRuleKind` from a plug-in or a test).
 */
import { changeKind } from './change/index.js';
import { deadmanKind } from './deadman/index.js';
import { groupExodusKind } from './group_exodus/index.js';
import { groupSilenceKind } from './group_silence/index.js';
import { seasonalKind } from './seasonal/index.js';
import { targetKind } from './target/index.js';
import type { AnyRule, RuleKind } from './types.js';

const KINDS: RuleKind<AnyRule>[] = [
  seasonalKind,
  changeKind,
  targetKind,
  deadmanKind,
  groupSilenceKind,
  groupExodusKind,
];

export function ruleKinds(): readonly RuleKind<AnyRule>[] {
  return KINDS;
}

/** Add a kind (before the built-ins it refines); returns a function that removes it again. */
export function registerRuleKind(kind: RuleKind<AnyRule>): () => void {
  if (KINDS.some((k) => k.id === kind.id)) throw new Error(`rule kind ${kind.id} is already registered`);
  KINDS.unshift(kind);
  return () => {
    const i = KINDS.indexOf(kind);
    if (i >= 0) KINDS.splice(i, 1);
  };
}

/** The module that evaluates a normalised rule. */
export function kindOf(rule: AnyRule): RuleKind<AnyRule> {
  const k = KINDS.find((m) => m.owns(rule));
  if (!k) throw new Error(`no rule kind module owns rule ${rule.id} (kind ${rule.kind})`);
  return k;
}

/** The module that parses YAML of this `kind:` (default change). */
export function parserFor(yamlKind: string): RuleKind<AnyRule> | undefined {
  return KINDS.find((m) => m.yamlKind === yamlKind && m.schema && m.normalise);
}

/** The YAML kinds, in the order the parser names them ("change, deadman or target"). */
export function yamlKinds(): string[] {
  return [...new Set(KINDS.filter((m) => m.schema).map((m) => m.yamlKind))].sort();
}
