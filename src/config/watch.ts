// Watches the config file for --watch-config: the folder is watched (editors and `kubectl` replace a
// file by renaming over it, which a watch on the file itself would miss) and changes of the file are
// debounced into one callback.
import { watch } from "node:fs";
import { basename, dirname } from "node:path";
import type { Logger } from "../lib/logger.js";

/** Calls `changed` once after the file at `path` stops changing for `quietMs`; returns a stop function. */
export function watchFile(path: string, changed: () => void, log: Logger, quietMs = 250): () => void {
  const name = basename(path);
  let timer: NodeJS.Timeout | undefined;
  const w = watch(dirname(path), (_event, file) => {
    if (file !== null && file !== name) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(changed, quietMs);
  });
  w.on("error", (e: Error) => log.warn({ err: e.message }, "config file watch failed; SIGHUP still reloads"));
  w.unref();
  log.info({ config: path }, "watching the config file for changes");
  return () => {
    if (timer) clearTimeout(timer);
    w.close();
  };
}
