/**
 * The alert engine lives here (rules, evaluation, notifiers). It is wired by the
 * backend's composition root. The engine itself is the alert-engine issue's work.
 */
export const ALERTS_WORKSPACE = '@siyu-pulse/alerts';
