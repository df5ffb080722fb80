import forge from "node-forge";

export interface PemPair {
  cert: string;
  key: string;
}

export interface ServingIdentity {
  dnsNames: readonly string[];
  ipAddresses?: readonly string[];
}

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * A random 16-byte serial that DER encodes as a positive integer with no leading zero byte
 * (OpenSSL rejects the padded form): the first byte is forced into 0x01–0x7f.
 */
function serial(): string {
  const bytes = forge.random.getBytesSync(16);
  const first = (bytes.charCodeAt(0) & 0x7f) || 0x01;
  return forge.util.bytesToHex(String.fromCharCode(first) + bytes.slice(1));
}

function validity(cert: forge.pki.Certificate, days: number, now: Date): void {
  cert.validity.notBefore = new Date(now.getTime() - 60 * 60 * 1000);
  cert.validity.notAfter = new Date(now.getTime() + days * DAY_MS);
}

/** A self-signed CA for regcred's webhook serving certificates. */
export function createAuthority(commonName: string, days = 3650, now = new Date()): PemPair {
  const keys = forge.pki.rsa.generateKeyPair({ bits: 2048 });
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = serial();
  validity(cert, days, now);
  const subject = [{ name: "commonName", value: commonName }];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: "basicConstraints", cA: true, critical: true },
    { name: "keyUsage", keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    { name: "subjectKeyIdentifier" },
  ]);
  cert.sign(keys.privateKey, forge.md.sha256.create());
  return { cert: forge.pki.certificateToPem(cert), key: forge.pki.privateKeyToPem(keys.privateKey) };
}

/** A serving certificate signed by `authority`, valid for the given names and addresses. */
export function issueServingCertificate(authority: PemPair, identity: ServingIdentity, days = 365, now = new Date()): PemPair {
  const caCert = forge.pki.certificateFromPem(authority.cert);
  const caKey = forge.pki.privateKeyFromPem(authority.key);
  const keys = forge.pki.rsa.generateKeyPair({ bits: 2048 });
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = serial();
  validity(cert, days, now);
  cert.setSubject([{ name: "commonName", value: identity.dnsNames[0] ?? "regcred" }]);
  cert.setIssuer(caCert.subject.attributes);
  const altNames = [
    ...identity.dnsNames.map((value) => ({ type: 2, value })),
    ...(identity.ipAddresses ?? []).map((ip) => ({ type: 7, ip })),
  ];
  cert.setExtensions([
    { name: "basicConstraints", cA: false },
    { name: "keyUsage", digitalSignature: true, keyEncipherment: true, critical: true },
    { name: "extKeyUsage", serverAuth: true },
    { name: "subjectAltName", altNames },
  ]);
  cert.sign(caKey, forge.md.sha256.create());
  return { cert: forge.pki.certificateToPem(cert), key: forge.pki.privateKeyToPem(keys.privateKey) };
}

/** The DNS names a webhook Service answers to inside the cluster. */
export function serviceDnsNames(service: string, namespace: string): string[] {
  return [service, `${service}.${namespace}`, `${service}.${namespace}.svc`, `${service}.${namespace}.svc.cluster.local`];
}
