// Answer compression on the fast paths exactly as Connect's handler does it: the compressions the
// server offers (adapter.ts uses the same list), the client's accept header picking one (its first
// name we offer), and only messages of at least Connect's compressMinBytes compressed.
import type { Compression } from "@connectrpc/connect/protocol";
import { compressionBrotli, compressionGzip } from "@connectrpc/connect-node";

/** What the server accepts and answers with (Connect's router and the fast paths alike). */
export const OFFERED_COMPRESSION: Compression[] = [compressionGzip, compressionBrotli];

/** Connect's default compressMinBytes: smaller messages go out as they are. */
export const COMPRESS_MIN_BYTES = 1024;

/** The compression an accept header picks, read as Connect reads it (comma-separated names). */
export function negotiate(h: string | string[] | undefined): Compression | undefined {
  if (h === undefined) return undefined;
  for (const n of (Array.isArray(h) ? h.join(",") : h).split(",")) {
    const name = n.trim();
    const found = OFFERED_COMPRESSION.find((c) => c.name === name);
    if (found) return found;
  }
  return undefined;
}

/** The bytes to send: compressed when a compression was picked and they are big enough. */
export async function squeeze(
  c: Compression | undefined,
  bytes: Uint8Array | string,
): Promise<{ bytes: Uint8Array; compressed: boolean }> {
  const raw = typeof bytes === "string" ? Buffer.from(bytes) : bytes;
  if (!c || raw.byteLength < COMPRESS_MIN_BYTES) return { bytes: raw, compressed: false };
  return { bytes: await c.compress(raw), compressed: true };
}
