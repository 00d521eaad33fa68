/**
 * @siyu-pulse/alerts — rules, evaluation and notifiers. Wired by the backend's
 * composition root; see contract.ts for the boundary.
 */
export * from './contract.js';
export * from './notify/index.js';
