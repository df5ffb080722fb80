import { afterEach, describe, expect, it } from "vitest";
import { mkdtempSync, renameSync, writeFileSync, type FSWatcher } from "node:fs";
import { createServer, request, Agent, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { X509Certificate } from "node:crypto";
import { createAuthority, issueServingCertificate, type PemPair } from "../../../src/certs/authority.js";
import { createLogger } from "../../../src/observability/logger.js";
import { readKeyPair, reloadOnChange } from "../../../src/server/tls.js";

const ca = createAuthority("tls-reload test CA");
const issue = (): PemPair => issueServingCertificate(ca, { dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"] });

let server: Server | undefined;
afterEach(() => { server?.close(); server?.closeAllConnections(); });

/** One GET over `agent`; resolves with the serial of the certificate the server presented. */
function get(port: number, agent: Agent): Promise<{ status: number; serial: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path: "/", ca: ca.cert, agent }, (res) => {
      const serial = new X509Certificate((res.socket as import("node:tls").TLSSocket).getPeerCertificate(true).raw).serialNumber;
      res.resume();
      res.on("end", () => { resolve({ status: res.statusCode ?? 0, serial }); });
    });
    req.on("error", reject);
    req.end();
  });
}

function writePair(dir: string, pair: PemPair): void {
  // As a mounted Secret changes: new files appear whole, then replace the old ones.
  writeFileSync(join(dir, "tls.crt.tmp"), pair.cert);
  writeFileSync(join(dir, "tls.key.tmp"), pair.key);
  renameSync(join(dir, "tls.crt.tmp"), join(dir, "tls.crt"));
  renameSync(join(dir, "tls.key.tmp"), join(dir, "tls.key"));
}

/** An HTTPS server on 127.0.0.1 serving `pair` from files in a fresh folder, reloading them on change. */
async function serveFrom(pair: PemPair): Promise<{ dir: string; port: number; watchers: FSWatcher[] }> {
  const dir = mkdtempSync(join(tmpdir(), "regcred-tls-"));
  writePair(dir, pair);
  const certFile = join(dir, "tls.crt");
  const keyFile = join(dir, "tls.key");
  const initial = readKeyPair(certFile, keyFile);
  const s = createServer(initial, (_req, res) => { res.end("ok"); });
  server = s;
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
  const watchers = reloadOnChange(s, initial, certFile, keyFile, createLogger("silent"));
  return { dir, port: (s.address() as AddressInfo).port, watchers };
}

describe("serving certificate reload", () => {
  it("serves a new certificate to new connections without dropping requests or restarting", async () => {
    const first = issue();
    const second = issue();
    const { dir, port, watchers } = await serveFrom(first);
    const firstSerial = new X509Certificate(first.cert).serialNumber;
    const secondSerial = new X509Certificate(second.cert).serialNumber;

    const keepAlive = new Agent({ keepAlive: true, maxSockets: 1 });
    expect(await get(port, keepAlive)).toEqual({ status: 200, serial: firstSerial });

    writePair(dir, second);
    let fresh = { status: 0, serial: "" };
    for (let i = 0; i < 50 && fresh.serial !== secondSerial; i++) {
      // Requests keep succeeding throughout: on the open connection and on new ones.
      expect((await get(port, keepAlive)).status).toBe(200);
      fresh = await get(port, new Agent({ keepAlive: false }));
      expect(fresh.status).toBe(200);
      await sleep(50);
    }
    expect(fresh.serial).toBe(secondSerial);
    keepAlive.destroy();
    for (const w of watchers) w.close();
  });

  it("keeps the old certificate when the new files are not a valid pair", async () => {
    const first = issue();
    const { dir, port, watchers } = await serveFrom(first);
    writeFileSync(join(dir, "tls.key"), "not a key");
    await sleep(400);
    const res = await get(port, new Agent({ keepAlive: false }));
    expect(res).toEqual({ status: 200, serial: new X509Certificate(first.cert).serialNumber });
    for (const w of watchers) w.close();
  });
});
