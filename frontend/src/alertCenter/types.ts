/** The alert API's answers, as the engine and the store define them (types only). */
export type { ActiveAlert, EngineStatus, RuleStatus, SplitStatus } from '../../../alerts/src/engine/types';
export type { Rule, ChangeRule, DeadmanRule } from '../../../alerts/src/rules/schema';
export type { Silence, Ack, SilenceMatchers } from '../../../alerts/src/engine/silences';
export type { NotifierStatus, DeliveryAttempt } from '../../../alerts/src/notify/dispatcher';
export type { AlertRow } from '@siyu-pulse/contracts/alerts';
export type { AlertState, Severity, Dimension } from '@siyu-pulse/contracts/alerts';
