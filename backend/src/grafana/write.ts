/**
 * Regenerates grafana/dashboards/*.json from the KPI catalogue:
 *   npm run build -w backend && npm run grafana:dashboards -w backend
 * backend/test/grafana.test.ts fails while the committed files differ from this output.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dashboardFiles } from './dashboards.js';

/** grafana/dashboards/ of the repository (same depth from src/grafana and dist/grafana). */
export const DASHBOARDS_DIR = fileURLToPath(new URL('../../../grafana/dashboards/', import.meta.url));

export function writeDashboards(dir = DASHBOARDS_DIR): string[] {
  mkdirSync(dir, { recursive: true });
  return Object.entries(dashboardFiles()).map(([name, text]) => {
    const file = join(dir, name);
    writeFileSync(file, text);
    return file;
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  for (const file of writeDashboards()) console.log(`wrote ${file}`);
}
