/**
 * Loads every registered venue's protocol case data (`test/fixtures/<venue>/protocol.ts`) by the
 * registry's ids, so suites iterate venues without naming one. A venue without case data fails here.
 */
import { EXCHANGES, type Exchange } from '../../shared/exchanges.js';
import type { MetadataTable } from '../../server/feeds/adapter.js';
import { table } from '../feeds/helpers.js';
import type { MetaRow, ProtocolCase } from './protocol-case.js';

async function load(exchange: Exchange): Promise<ProtocolCase> {
  const mod = (await import(`../fixtures/${exchange}/protocol.ts`)) as { default?: ProtocolCase };
  if (!mod.default) throw new Error(`test/fixtures/${exchange}/protocol.ts has no default export (the venue's protocol case data)`);
  return mod.default;
}

export const CASES: ReadonlyArray<readonly [Exchange, ProtocolCase]> = await Promise.all(EXCHANGES.map(async (ex) => [ex, await load(ex)] as const));

export function metaTable(exchange: Exchange, rows: MetaRow[]): MetadataTable {
  return table(exchange, rows);
}
