// Runtime keys without Redis: a local JSON file (`auth.keys_file`) holding digests only, never a key.
// Written atomically (temp file + rename, mode 0600) under a lock file, so processes on one host can
// share it; readers notice changes by the file's stat and re-read it.
import { randomBytes } from "node:crypto";
import { mkdir, open, readFile, rename, stat, unlink, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { isObject } from "../lib/object.js";
import type { RuntimeKey, StoreBackend, StoredSet } from "./store.js";

/** The file's shape. */
interface KeysFile {
  about?: string;
  version: number;
  keys: Record<string, unknown>;
}

const ABOUT = "llm-gateway runtime keys (AdminService): SHA-256 digests only, never a key";
const LOCK_STALE_MS = 10_000;

function code(e: unknown): string | undefined {
  return isObject(e) && typeof e["code"] === "string" ? e["code"] : undefined;
}

export class FileKeyBackend implements StoreBackend {
  readonly where: string;
  /** stat signature and version of the last read, so polls read the file only when it changed. */
  private seen = { sig: "", version: 0 };

  constructor(readonly path: string) {
    this.where = `file ${path}`;
  }

  async ready(): Promise<void> {}

  private async signature(): Promise<string> {
    try {
      const s = await stat(this.path);
      return `${s.ino}:${s.size}:${s.mtimeMs}`;
    } catch (e: unknown) {
      if (code(e) === "ENOENT") return "none";
      throw e;
    }
  }

  async version(): Promise<number> {
    const sig = await this.signature();
    if (sig === this.seen.sig) return this.seen.version;
    return (await this.load()).version;
  }

  private async read(): Promise<{ sig: string; file: KeysFile }> {
    const sig = await this.signature();
    if (sig === "none") return { sig, file: { version: 0, keys: {} } };
    let text: string;
    try {
      text = await readFile(this.path, "utf8");
    } catch (e: unknown) {
      if (code(e) === "ENOENT") return { sig: "none", file: { version: 0, keys: {} } };
      throw e;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new Error(`${this.path} is not valid JSON`);
    }
    if (!isObject(parsed) || typeof parsed["version"] !== "number" || !isObject(parsed["keys"]))
      throw new Error(`${this.path} is not a keys file ({"version": n, "keys": {...}})`);
    return { sig, file: { version: parsed["version"], keys: parsed["keys"] } };
  }

  async load(): Promise<StoredSet> {
    const { sig, file } = await this.read();
    this.seen = { sig, version: file.version };
    return { version: file.version, raw: new Map(Object.entries(file.keys)) };
  }

  async commit(expected: number, records: readonly RuntimeKey[]): Promise<number | undefined> {
    await mkdir(dirname(this.path), { recursive: true });
    const release = await this.lock();
    try {
      const { file } = await this.read();
      if (file.version !== expected) return undefined;
      const keys = { ...file.keys };
      for (const r of records) keys[r.sha256] = r;
      const next: KeysFile = { about: ABOUT, version: expected + 1, keys };
      const tmp = `${this.path}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
      await writeFile(tmp, `${JSON.stringify(next, null, 2)}\n`, { mode: 0o600 });
      await rename(tmp, this.path);
      return next.version;
    } finally {
      await release();
    }
  }

  /** An exclusive lock file beside the keys file (a stale one, left by a crash, is broken). */
  private async lock(): Promise<() => Promise<void>> {
    const lockPath = `${this.path}.lock`;
    const until = Date.now() + 3000;
    for (;;) {
      try {
        const h = await open(lockPath, "wx", 0o600);
        await h.close();
        return () => unlink(lockPath).catch(() => {});
      } catch (e: unknown) {
        if (code(e) !== "EEXIST") throw e;
        const s = await stat(lockPath).catch(() => undefined);
        if (s && Date.now() - s.mtimeMs > LOCK_STALE_MS) await unlink(lockPath).catch(() => {});
        else if (Date.now() > until) throw new Error(`${lockPath} is held by another process`);
        else await new Promise((r) => setTimeout(r, 20));
      }
    }
  }

  close(): void {}
}
