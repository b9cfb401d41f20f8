// The client IP for anonymous limits: the socket's peer, or — when the peer is a trusted proxy —
// the X-Forwarded-For hop that proxy appended (walking right to left past further trusted proxies).
// A header from anyone else is never believed.
import { BlockList, isIP } from "node:net";

/** Strips the IPv4-mapped IPv6 prefix ("::ffff:10.0.0.1" -> "10.0.0.1") and IPv6 brackets / zone. */
export function normalizeIp(ip: string): string {
  let s = ip.trim();
  if (s.startsWith("[")) s = s.slice(1, s.indexOf("]") > 0 ? s.indexOf("]") : undefined);
  const pct = s.indexOf("%");
  if (pct > 0) s = s.slice(0, pct);
  if (/^::ffff:\d+\.\d+\.\d+\.\d+$/i.test(s)) s = s.slice(7);
  // "1.2.3.4:5678" (a proxy that appends the port)
  if (/^\d+\.\d+\.\d+\.\d+:\d+$/.test(s)) s = s.slice(0, s.indexOf(":"));
  return s.toLowerCase();
}

/** CIDRs (or single addresses) of trusted proxies, IPv4 and IPv6. Throws on a malformed entry. */
export class TrustedProxies {
  private readonly list = new BlockList();
  readonly empty: boolean;

  constructor(cidrs: readonly string[]) {
    this.empty = cidrs.length === 0;
    for (const c of cidrs) {
      const [addr = "", bits] = c.split("/");
      const a = normalizeIp(addr);
      const family = isIP(a);
      if (!family) throw new Error(`server.trusted_proxies: "${c}" is not an IP address or CIDR`);
      const type = family === 4 ? "ipv4" : "ipv6";
      if (bits === undefined) this.list.addAddress(a, type);
      else {
        const n = Number(bits);
        if (!Number.isInteger(n) || n < 0 || n > (family === 4 ? 32 : 128))
          throw new Error(`server.trusted_proxies: "${c}" has a bad prefix length`);
        this.list.addSubnet(a, n, type);
      }
    }
  }

  has(ip: string): boolean {
    const family = isIP(ip);
    if (!family) return false;
    return this.list.check(ip, family === 4 ? "ipv4" : "ipv6");
  }

  /** The client IP for a request from `peer` carrying `xff` (X-Forwarded-For, possibly several headers joined). */
  clientIp(peer: string | undefined, xff: string | undefined): string {
    let ip = normalizeIp(peer ?? "");
    if (this.empty || !xff) return ip || "unknown";
    const hops = xff
      .split(",")
      .map((h) => normalizeIp(h))
      .filter((h) => h !== "");
    while (this.has(ip) && hops.length > 0) {
      const next = hops.pop() as string;
      if (!isIP(next)) break; // garbage from the proxy: stop at the proxy itself
      ip = next;
    }
    return ip || "unknown";
  }
}
