import { describe, expect, it } from 'vitest';
import { frameScheduler, type FrameSchedulerEnv } from '../../web/src/lib/schedule.js';

/** A hand-driven clock, timer queue and animation-frame queue. */
function fakeEnv() {
  let nowMs = 0;
  let visible = true;
  const timers: { at: number; fn: () => void; id: number }[] = [];
  let frames: (() => void)[] = [];
  let nextId = 1;
  const env: FrameSchedulerEnv = {
    now: () => nowMs,
    setTimeout: (fn, ms) => {
      const id = nextId++;
      timers.push({ at: nowMs + ms, fn, id });
      return id;
    },
    clearTimeout: (id) => {
      const i = timers.findIndex((t) => t.id === id);
      if (i >= 0) timers.splice(i, 1);
    },
    requestAnimationFrame: (fn) => frames.push(fn),
    visible: () => visible,
  };
  return {
    env,
    setVisible: (v: boolean) => (visible = v),
    pendingFrames: () => frames.length,
    /** Advances the clock, firing due timers in order. */
    advance(ms: number) {
      const until = nowMs + ms;
      for (;;) {
        timers.sort((a, b) => a.at - b.at);
        const t = timers[0];
        if (!t || t.at > until) break;
        timers.shift();
        nowMs = t.at;
        t.fn();
      }
      nowMs = until;
    },
    frame() {
      const run = frames;
      frames = [];
      for (const fn of run) fn();
    },
  };
}

describe('frameScheduler', () => {
  it('delivers in an animation frame, at most once per interval', () => {
    const f = fakeEnv();
    const schedule = frameScheduler(100, 250, f.env);
    const calls: number[] = [];
    schedule(() => calls.push(f.env.now()));
    f.advance(0);
    expect(calls).toEqual([]); // waits for the frame
    expect(f.pendingFrames()).toBe(1);
    f.advance(5);
    f.frame();
    expect(calls).toEqual([5]);
    schedule(() => calls.push(f.env.now()));
    f.advance(50);
    expect(f.pendingFrames()).toBe(0); // not before 100 ms since the last delivery
    f.advance(50);
    f.frame();
    expect(calls).toEqual([5, 105]);
    f.advance(1000);
    expect(calls).toEqual([5, 105]); // the frame won: its timer fallback does not deliver again
  });

  it('delivers by timer when the page is hidden, and when a frame asked for before hiding never comes', () => {
    const f = fakeEnv();
    const schedule = frameScheduler(100, 250, f.env);
    const calls: number[] = [];
    f.setVisible(false);
    schedule(() => calls.push(f.env.now()));
    f.advance(0);
    expect(calls).toEqual([0]);
    expect(f.pendingFrames()).toBe(0);

    f.setVisible(true);
    schedule(() => calls.push(f.env.now()));
    f.advance(100); // a frame is asked for…
    expect(f.pendingFrames()).toBe(1);
    f.setVisible(false); // …and the tab hides before it comes: the fallback delivers
    f.advance(250);
    expect(calls).toEqual([0, 350]);
    f.frame(); // a late frame does not deliver twice
    expect(calls).toEqual([0, 350]);
  });
});
