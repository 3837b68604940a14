/** A minimal value source that satisfies Svelte's store contract (`subscribe` → unsubscribe), with no framework import. */
export type Listener<T> = (value: T) => void;

export class Observable<T> {
  private readonly listeners = new Set<Listener<T>>();

  constructor(private current: T) {}

  get value(): T {
    return this.current;
  }

  subscribe(listener: Listener<T>): () => void {
    this.listeners.add(listener);
    listener(this.current);
    return () => this.listeners.delete(listener);
  }

  protected set(value: T): void {
    this.current = value;
    for (const l of this.listeners) l(value);
  }
}

/** A settable observable for small UI state (selection, token, …). */
export class Writable<T> extends Observable<T> {
  override set(value: T): void {
    super.set(value);
  }
}
