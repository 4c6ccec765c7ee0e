// Key patterns for subscriptions: `*` matches every key, `prefix*` every key starting
// with prefix (`user:*`), anything else exactly one key. A `*` elsewhere is literal.

export class KeyPattern {
  readonly source: string;
  private readonly prefix: string | undefined;

  constructor(source: string) {
    this.source = source;
    this.prefix = source.endsWith('*') ? source.slice(0, -1) : undefined;
  }

  matches(key: string): boolean {
    return this.prefix === undefined ? key === this.source : key.startsWith(this.prefix);
  }
}
