// Listening on loopback for a test's own servers (fake upstreams, proxies): port 0, the port back.
import { once } from "node:events";
import type { AddressInfo, Server } from "node:net";

/** Starts `server` on 127.0.0.1 at a free port and resolves with that port. */
export async function listenLocal(server: Server): Promise<number> {
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return (server.address() as AddressInfo).port;
}
