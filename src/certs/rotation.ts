import { X509Certificate } from "node:crypto";
import { isIP } from "node:net";
import { createAuthority, issueServingCertificate, type PemPair, type ServingIdentity } from "./authority.js";

/** The Secret regcred keeps its self-managed certificates in (type kubernetes.io/tls). */
export interface ServingMaterial {
  /** PEM bundle the API server trusts: the current CA, then the previous one while it is still valid. */
  caBundle: string;
  caKey: string;
  cert: string;
  key: string;
}

export const CA_DAYS = 3650;
export const SERVING_DAYS = 365;

/** Renew when less than this fraction of the validity is left (as cert-manager's default 2/3 renewBefore). */
const RENEW_FRACTION = 1 / 3;

function firstCertificate(bundle: string): string {
  const end = "-----END CERTIFICATE-----";
  const at = bundle.indexOf(end);
  return at < 0 ? bundle : bundle.slice(0, at + end.length) + "\n";
}

function dueForRenewal(pem: string, now: Date): boolean {
  try {
    const cert = new X509Certificate(pem);
    const from = new Date(cert.validFrom).getTime();
    const to = new Date(cert.validTo).getTime();
    return now.getTime() >= to - (to - from) * RENEW_FRACTION;
  } catch {
    return true;
  }
}

function coversNames(pem: string, identity: ServingIdentity): boolean {
  try {
    const san = new Set((new X509Certificate(pem).subjectAltName ?? "").split(",").map((s) => s.trim()));
    return identity.dnsNames.every((n) => san.has(`DNS:${n}`)) && (identity.ipAddresses ?? []).every((ip) => san.has(`IP Address:${ip}`));
  } catch {
    return false;
  }
}

/** DNS names and IP addresses, from a list that may mix both. */
export function servingIdentity(names: readonly string[]): ServingIdentity {
  return { dnsNames: names.filter((n) => isIP(n) === 0), ipAddresses: names.filter((n) => isIP(n) !== 0) };
}

function signedBy(cert: string, caPem: string): boolean {
  try {
    return new X509Certificate(cert).verify(new X509Certificate(caPem).publicKey);
  } catch {
    return false;
  }
}

/**
 * What the certificate Secret should hold now: undefined when the current material is fine.
 * The serving certificate is renewed (same CA, so the caBundle does not change) when a third of its
 * life is left or its names are wrong; the CA is renewed likewise, and the old CA stays in the
 * bundle until it expires, so certificates it signed keep working while replicas switch.
 */
export function planServingMaterial(current: ServingMaterial | undefined, identity: ServingIdentity, now = new Date()): ServingMaterial | undefined {
  const currentCa = current ? firstCertificate(current.caBundle) : undefined;
  if (!current || !currentCa || dueForRenewal(currentCa, now) || !current.caKey) {
    const ca = createAuthority("regcred webhook CA", CA_DAYS, now);
    const serving = issueServingCertificate(ca, identity, SERVING_DAYS, now);
    const previous = currentCa && !expired(currentCa, now) ? currentCa : "";
    return { caBundle: ca.cert + previous, caKey: ca.key, ...serving };
  }
  if (dueForRenewal(current.cert, now) || !coversNames(current.cert, identity) || !signedBy(current.cert, currentCa)) {
    const ca: PemPair = { cert: currentCa, key: current.caKey };
    return { ...current, ...issueServingCertificate(ca, identity, SERVING_DAYS, now) };
  }
  return undefined;
}

function expired(pem: string, now: Date): boolean {
  try {
    return now.getTime() > new Date(new X509Certificate(pem).validTo).getTime();
  } catch {
    return true;
  }
}

export function materialFromSecretData(data: Readonly<Record<string, string>> | undefined): ServingMaterial | undefined {
  if (!data) return undefined;
  const read = (key: string): string => Buffer.from(data[key] ?? "", "base64").toString("utf8");
  const m = { caBundle: read("ca.crt"), caKey: read("ca.key"), cert: read("tls.crt"), key: read("tls.key") };
  return m.cert && m.key ? m : undefined;
}

export function secretDataFromMaterial(m: ServingMaterial): Record<string, string> {
  const b64 = (s: string): string => Buffer.from(s).toString("base64");
  return { "ca.crt": b64(m.caBundle), "ca.key": b64(m.caKey), "tls.crt": b64(m.cert), "tls.key": b64(m.key) };
}
