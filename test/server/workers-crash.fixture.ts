// A supervisor whose workers crash in a loop (for workers.test.ts): the primary is the real
// runSupervisor; each worker listens on the port, then exits with code 3 after 100 ms.
import cluster from "node:cluster";
import net from "node:net";
import { loadConfig } from "../../src/config/index.js";
import { createLogger } from "../../src/lib/logger.js";
import { implementedTypes, presetInfo } from "../../src/providers/index.js";
import { runSupervisor } from "../../src/server/cluster.js";

const port = Number(process.env["PORT"]);
if (cluster.isWorker) {
  const server = net.createServer((s) => s.destroy());
  server.listen(port, "127.0.0.1", () => setTimeout(() => process.exit(3), 100));
} else {
  const load = () =>
    loadConfig({
      argv: ["--workers", "2", "--port", String(port)],
      env: {},
      presets: presetInfo,
      implementedTypes,
    });
  const log = createLogger("info");
  runSupervisor({ config: load(), log, load }).then((code) => {
    log.flush();
    process.exitCode = code;
  });
}
