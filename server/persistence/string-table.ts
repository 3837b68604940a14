/**
 * Interned strings (symbols, instruments) shared by the writer's binary rings: a record stores a u32
 * id instead of its string. Ids are never reused, so the writer thread can mirror the table by
 * receiving only the entries added since its last batch (`since`).
 */
export class StringTable {
  private readonly ids = new Map<string, number>();
  private readonly list: string[] = [];

  get size(): number {
    return this.list.length;
  }

  id(s: string): number {
    let id = this.ids.get(s);
    if (id === undefined) {
      id = this.list.length;
      this.list.push(s);
      this.ids.set(s, id);
    }
    return id;
  }

  get(id: number): string | undefined {
    return this.list[id];
  }

  /** The entries from id `from` on (what a mirror lacks). */
  since(from: number): string[] {
    return this.list.slice(from);
  }

  /** Appends entries received from the owning table (a mirror). */
  append(strings: readonly string[]): void {
    for (const s of strings) {
      this.ids.set(s, this.list.length);
      this.list.push(s);
    }
  }
}

/** UTF-8 bytes of a table's strings, cached by id (the encoder side). */
export class Utf8Cache {
  private readonly bytes: Array<Buffer | undefined> = [];
  constructor(private readonly table: StringTable) {}
  get(id: number): Buffer {
    let b = this.bytes[id];
    if (!b) {
      b = Buffer.from(this.table.get(id) ?? '', 'utf8');
      this.bytes[id] = b;
    }
    return b;
  }
}
