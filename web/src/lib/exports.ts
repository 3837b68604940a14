/**
 * The dashboard's download links: the list routes with `?format=csv|json` (docs/exports.md). Relative URLs,
 * like every REST call of the dashboard, so they work under a reverse-proxy sub-path. The server answers
 * with Content-Disposition: attachment, so a plain link downloads (GET needs no token).
 */
import type { ExportFormat } from '../../../shared/api.js';

export interface ExportTarget {
  /** Stable id for tests: `download-<id>-<format>`. */
  id: string;
  label: string;
  path: string;
  query?: Record<string, string>;
}

export const EXPORTS = {
  closedOpportunities: { id: 'closed-opportunities', label: 'Closed opportunities', path: 'api/opportunities/history', query: { limit: '1000' } },
  positions: { id: 'positions', label: 'Positions', path: 'api/positions', query: { state: 'all' } },
  closedPositions: { id: 'closed-positions', label: 'Closed positions', path: 'api/positions', query: { state: 'closed' } },
  fills: { id: 'fills', label: 'Fills', path: 'api/trades', query: { limit: '10000' } },
} as const satisfies Record<string, ExportTarget>;

export const EXPORT_FORMATS_SHOWN: readonly ExportFormat[] = ['csv', 'json'];

export function exportUrl(target: ExportTarget, format: ExportFormat): string {
  const q = new URLSearchParams({ ...(target.query ?? {}), format });
  return `${target.path}?${q.toString()}`;
}
