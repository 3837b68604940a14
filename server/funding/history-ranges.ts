/** Inclusive epoch-ms ranges: the backfill's bookkeeping of what it has read (merge, subtract). */
export interface MsRange {
  fromMs: number;
  toMs: number;
}

/** Sorted, overlapping or touching ranges merged (ms resolution: [a, b] and [b + 1, c] touch). */
export function mergeRanges(ranges: readonly MsRange[]): MsRange[] {
  const sorted = ranges.filter((r) => r.toMs >= r.fromMs).sort((a, b) => a.fromMs - b.fromMs);
  const out: MsRange[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && r.fromMs <= last.toMs + 1) last.toMs = Math.max(last.toMs, r.toMs);
    else out.push({ fromMs: r.fromMs, toMs: r.toMs });
  }
  return out;
}

/** The parts of `range` not covered by `done`, oldest first. */
export function subtractRanges(range: MsRange, done: readonly MsRange[]): MsRange[] {
  let parts: MsRange[] = range.toMs >= range.fromMs ? [{ ...range }] : [];
  for (const d of mergeRanges(done)) {
    const next: MsRange[] = [];
    for (const p of parts) {
      if (d.toMs < p.fromMs || d.fromMs > p.toMs) {
        next.push(p);
        continue;
      }
      if (d.fromMs > p.fromMs) next.push({ fromMs: p.fromMs, toMs: d.fromMs - 1 });
      if (d.toMs < p.toMs) next.push({ fromMs: d.toMs + 1, toMs: p.toMs });
    }
    parts = next;
  }
  return parts;
}
