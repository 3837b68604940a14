/** The System panel's compact "Universe" cell of a venue's feed: discovery stats (FeedState.discovery). */
import type { FeedState } from '../../../shared/feeds.js';
import { fmtClock } from './format.js';

/** Entries of the venue's instruments response skipped at the last good discovery. */
export function skippedCount(feed: FeedState): number {
  return Object.values(feed.discovery?.skipped ?? {}).reduce((a, b) => a + b, 0);
}

/** `subscribed/listed`, with `+N skipped` when entries were skipped; the metadata state until the first discovery. */
export function universeCell(feed: FeedState): string {
  const d = feed.discovery;
  if (!d || d.refreshedMs === null) return feed.metadata;
  const skipped = skippedCount(feed);
  return `${d.subscribed}/${d.listed}${skipped > 0 ? ` +${skipped} skipped` : ''}`;
}

/** Details for the cell's tooltip: counts, skip reasons, last refresh and failed refreshes. */
export function universeTitle(feed: FeedState): string {
  const d = feed.discovery;
  if (!d) return `metadata ${feed.metadata}`;
  const lines = [`${d.subscribed} subscribed of ${d.listed} listed (trading)`];
  const reasons = Object.entries(d.skipped);
  if (reasons.length > 0) lines.push(`skipped: ${reasons.map(([r, n]) => `${r} ${n}`).join(', ')}`);
  lines.push(d.refreshedMs === null ? 'not discovered yet' : `refreshed ${fmtClock(d.refreshedMs)}`);
  if (d.failures > 0) lines.push(`${d.failures} failed refresh${d.failures > 1 ? 'es' : ''} since (last good list kept)`);
  if (feed.unlisted?.length) lines.push(`not listed: ${feed.unlisted.join(', ')}`);
  return lines.join('\n');
}
