/**
 * `?format=csv|json` on a list route: the same rows as the route's JSON, sent as a download
 * (Content-Disposition: attachment) named `perpscan-<name>-<UTC time>.<ext>`. Any list route plugs in by
 * passing its row schema (the item schema of its JSON response) and its rows.
 */
import type { FastifyReply } from 'fastify';
import type { TSchema } from 'typebox';
import type { ExportFormat } from '../../../shared/api.js';
import { rowsToCsv } from './csv.js';

export interface ExportRequest {
  format: ExportFormat;
  /** File name stem, e.g. `positions`: [a-z0-9-] only. */
  name: string;
  rowSchema: TSchema;
  rows: readonly unknown[];
  /** The route's ordinary JSON response (what format=json downloads). */
  json: unknown;
  nowMs?: number;
}

/** `20261201T232000Z`: sortable, no characters a file system dislikes. */
export function fileStamp(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/[-:]/g, '');
}

export function exportFileName(name: string, format: ExportFormat, nowMs: number): string {
  return `perpscan-${name}-${fileStamp(nowMs)}.${format}`;
}

export function sendExport(reply: FastifyReply, req: ExportRequest): FastifyReply {
  const file = exportFileName(req.name, req.format, req.nowMs ?? Date.now());
  reply.header('content-disposition', `attachment; filename="${file}"`);
  reply.header('cache-control', 'no-store');
  if (req.format === 'csv') return reply.type('text/csv; charset=utf-8').send(rowsToCsv(req.rowSchema, req.rows));
  return reply.type('application/json; charset=utf-8').send(req.json);
}
