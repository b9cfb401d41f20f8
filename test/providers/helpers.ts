// Shared by the provider translation tests: recorded fixtures, byte streams cut at any size, and
// small assertion helpers for rejections and throws.
import { readFileSync } from "node:fs";
import type { JsonValue } from "@bufbuild/protobuf";
import { expect } from "vitest";

/** Readers of one provider's recorded fixtures (test/fixtures/<provider>/). */
export function fixtures(provider: string): { read(name: string): string; json(name: string): JsonValue } {
  const dir = new URL(`../fixtures/${provider}/`, import.meta.url);
  const read = (name: string): string => readFileSync(new URL(name, dir), "utf8");
  return { read, json: (name) => JSON.parse(read(name)) as JsonValue };
}

/** A text as a byte stream cut every `size` bytes (UTF-8 sequences and lines split on purpose). */
export async function* chunked(text: string, size: number): AsyncGenerator<Uint8Array> {
  const bytes = Buffer.from(text, "utf8");
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

export async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const v of it) out.push(v);
  return out;
}

/** What a promise rejects with (the test fails if it resolves). */
export async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => expect.fail("expected a rejection"),
    (e: unknown) => e,
  );
}

/** What a function throws (the test fails if it does not). */
export function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (e: unknown) {
    return e;
  }
  return expect.fail("expected a throw");
}
