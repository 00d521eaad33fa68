/**
 * The evaluations, kept at this path for the engine's callers: each kind's pure evaluation
 * lives in its folder under ../kinds/.
 */
export { relativeChange, type BandInput, type Evaluation, type Move, type Observation } from '../kinds/common/evaluation.js';
export { erfc, evaluateChange, normalCdf, twoProportionZTest } from '../kinds/change/evaluate.js';
export { evaluateTarget, missSide } from '../kinds/target/evaluate.js';
export { evaluateDeadman } from '../kinds/deadman/evaluate.js';
