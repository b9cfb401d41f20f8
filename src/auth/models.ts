// Model allow-lists: patterns with `*` ("openai/*", "smart", "*"), matched against the names a call
// may reach.

/** A compiled allow-list; undefined patterns allow everything. */
export class ModelAllowList {
  private readonly exact = new Set<string>();
  private readonly wild: RegExp[] = [];
  readonly all: boolean;

  constructor(patterns: readonly string[] | undefined) {
    this.all = patterns === undefined || patterns.includes("*");
    for (const p of patterns ?? []) {
      if (!p.includes("*")) this.exact.add(p);
      else {
        const re = p
          .split("*")
          .map((s) => s.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
          .join(".*");
        this.wild.push(new RegExp(`^${re}$`));
      }
    }
  }

  allows(name: string): boolean {
    if (this.all || this.exact.has(name)) return true;
    return this.wild.some((re) => re.test(name));
  }
}
