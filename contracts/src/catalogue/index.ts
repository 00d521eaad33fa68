/** The KPI catalogue: event types and counters, KPI definitions, channel names, outrun flags. */
export * from './events.js';
export * from './kpis.js';
export * from './counters.js';
export * from './channels.js';
export * from './outrun.js';
