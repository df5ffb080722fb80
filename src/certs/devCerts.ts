import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createAuthority, issueServingCertificate, serviceDnsNames } from "./authority.js";

/**
 * `npm run certs`: a development CA and a serving certificate for a regcred run on this machine
 * (localhost, 127.0.0.1, ::1, and the chart's Service names), written to certs/.
 */
export function writeDevCerts(dir: string): { caFile: string; certFile: string; keyFile: string } {
  mkdirSync(dir, { recursive: true });
  const ca = createAuthority("regcred development CA");
  const serving = issueServingCertificate(ca, {
    dnsNames: ["localhost", ...serviceDnsNames("regcred", "regcred-system")],
    ipAddresses: ["127.0.0.1", "::1"],
  });
  const caFile = join(dir, "ca.crt");
  const certFile = join(dir, "tls.crt");
  const keyFile = join(dir, "tls.key");
  writeFileSync(caFile, ca.cert);
  writeFileSync(certFile, serving.cert);
  writeFileSync(keyFile, serving.key, { mode: 0o600 });
  return { caFile, certFile, keyFile };
}

if (process.argv[1] && import.meta.filename === process.argv[1]) {
  const files = writeDevCerts(process.argv[2] ?? "certs");
  process.stdout.write(`wrote ${files.caFile}, ${files.certFile} and ${files.keyFile}\n`);
}
