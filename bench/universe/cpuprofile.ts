/**
 * Summarises a V8 CPU profile (`.cpuprofile`, as written by `node --cpu-prof` or the inspector's Profiler):
 * self time per function and per source area, and inclusive time of chosen functions, as shares of the
 * sampled time. Used by bench/universe/profile.ts to say where the server's CPU per message goes.
 */
export interface CpuProfile {
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }>;
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface ProfileSummary {
  /** Samples taken (each counts as one sampling interval: under CPU contention a sample's time delta includes time descheduled). */
  samples: number;
  /** Self time per source area, % of non-idle samples. */
  areas_self: Record<string, number>;
  /** Samples whose stack passes through the area (inclusive), % of non-idle samples. */
  areas_inclusive: Record<string, number>;
  /** Top functions by self samples (% of non-idle). */
  top_self: Array<{ fn: string; pct: number }>;
  /** Inclusive share (%) of non-idle samples of `function@file-suffix` entries asked for. */
  inclusive: Record<string, number>;
  idle_pct: number;
}

const ROOT = new URL('../../', import.meta.url).href;

/** A source area from a script URL: our folder (`server/feeds`), a dependency, node internals, V8 pseudo-frames. */
export function areaOf(url: string, fn: string): string {
  if (url === '') return fn.startsWith('(') ? fn : '(native)';
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return nm[1];
  if (url.startsWith(ROOT)) return url.slice(ROOT.length).split('/').slice(0, 2).join('/');
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0]}`;
  return 'other';
}

const short = (url: string) => (url.startsWith(ROOT) ? url.slice(ROOT.length) : url.replace(/^.*node_modules\//, ''));

export function summarise(p: CpuProfile, inclusive: readonly string[] = [], top = 40): ProfileSummary {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const count = new Map<number, number>();
  // The first sample's delta covers the time before profiling started: counting samples avoids it too.
  for (let i = 1; i < p.samples.length; i++) count.set(p.samples[i], (count.get(p.samples[i]) ?? 0) + 1);
  let total = 0;
  let idle = 0;
  const areasSelf: Record<string, number> = {};
  const areasIncl: Record<string, number> = {};
  const fns = new Map<string, number>();
  const incl: Record<string, number> = Object.fromEntries(inclusive.map((f) => [f, 0]));
  for (const [id, n] of count) {
    const node = byId.get(id);
    if (!node) continue;
    const { functionName, url } = node.callFrame;
    total += n;
    if (functionName === '(idle)') {
      idle += n;
      continue;
    }
    const area = areaOf(url, functionName);
    areasSelf[area] = (areasSelf[area] ?? 0) + n;
    const key = `${functionName || '(anonymous)'} ${short(url)}`;
    fns.set(key, (fns.get(key) ?? 0) + n);
    const seenArea = new Set<string>();
    const seenFn = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const f = byId.get(cur)?.callFrame;
      if (!f) break;
      const a = areaOf(f.url, f.functionName);
      if (!seenArea.has(a)) {
        seenArea.add(a);
        areasIncl[a] = (areasIncl[a] ?? 0) + n;
      }
      for (const want of inclusive) {
        const [fn, file] = want.split('@');
        if (!seenFn.has(want) && f.functionName === fn && (!file || f.url.endsWith(file))) {
          seenFn.add(want);
          incl[want] += n;
        }
      }
    }
  }
  const busy = total - idle;
  const pct = (n: number) => Math.round((n / busy) * 1000) / 10;
  const sorted = (o: Record<string, number>) => Object.fromEntries(Object.entries(o).sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, pct(v)]));
  return {
    samples: total,
    areas_self: sorted(areasSelf),
    areas_inclusive: sorted(areasIncl),
    top_self: [...fns.entries()].sort((a, b) => b[1] - a[1]).slice(0, top).map(([fn, n]) => ({ fn, pct: pct(n) })),
    inclusive: Object.fromEntries(Object.entries(incl).map(([k, v]) => [k, pct(v)])),
    idle_pct: Math.round((idle / total) * 1000) / 10,
  };
}
