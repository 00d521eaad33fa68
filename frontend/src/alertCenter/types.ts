/** The alert API's answers (types only), from the contracts package. */
export type { ActiveAlert, Ack, DeliveryAttempt, EngineStatus, NotifierStatus, RuleStatus, Silence, SilenceMatchers, SplitStatus } from '@siyu-pulse/contracts/alertCenter';
export type { ChangeRule, DeadmanRule, GroupRule, Rule } from '@siyu-pulse/contracts/rules';
export type { AlertRow, AlertState, Dimension, Severity } from '@siyu-pulse/contracts/alerts';
