import { watch, readFileSync, type FSWatcher } from "node:fs";
import { dirname } from "node:path";
import type { Server } from "node:https";
import type { Logger } from "../observability/logger.js";
import { describeError } from "../observability/errors.js";

export interface KeyPair {
  cert: string;
  key: string;
}

export function readKeyPair(certFile: string, keyFile: string): KeyPair {
  return { cert: readFileSync(certFile, "utf8"), key: readFileSync(keyFile, "utf8") };
}

/**
 * Reloads the serving certificate when its files change, with setSecureContext: connections already
 * open keep their context, new ones get the new certificate, no request is dropped. Watches the
 * directory, since Kubernetes updates a mounted Secret by swapping a symlink.
 */
export function reloadOnChange(server: Server, initial: KeyPair, certFile: string, keyFile: string, log: Logger): FSWatcher[] {
  let timer: NodeJS.Timeout | undefined;
  let last = initial.cert + initial.key;
  const reload = (): void => {
    timer = undefined;
    try {
      const pair = readKeyPair(certFile, keyFile);
      if (pair.cert + pair.key === last) return;
      server.setSecureContext(pair);
      last = pair.cert + pair.key;
      log.info({ certFile }, "serving certificate loaded");
    } catch (err) {
      // A half-written pair: keep serving the old one; the next change event retries.
      log.warn({ certFile, error: describeError(err) }, "serving certificate not reloaded");
    }
  };
  const schedule = (): void => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(reload, 100);
  };
  const dirs = [...new Set([dirname(certFile), dirname(keyFile)])];
  return dirs.map((dir) => watch(dir, { persistent: false }, schedule));
}
