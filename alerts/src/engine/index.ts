/** The engine's public surface (the composition root wires AlertEngine). */
export { AlertEngine, alertKeyOf } from './engine.js';
export type {
  ActiveAlert,
  AlertEngineOptions,
  EngineLogger,
  EngineStatus,
  EvaluationReport,
  NotificationOutlet,
  RuleStatus,
  SilencedBy,
  Split,
  SplitStatus,
} from './types.js';
export type { Ack, AlertIdentity, Silence, SilenceInput, SilenceMatchers } from './silences.js';
export type { Hold } from './notifyPolicy.js';
export { evaluateChange, normalCdf, relativeChange, twoProportionZTest, type Evaluation, type Observation } from './evaluate.js';
export { topContributors, type Contributor } from './contributors.js';
export { DocumentWriter, type StateDocumentName, type StateDocuments } from './stateDocuments.js';
