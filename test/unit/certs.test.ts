import { describe, expect, it } from "vitest";
import { X509Certificate } from "node:crypto";
import { createAuthority, issueServingCertificate, serviceDnsNames } from "../../src/certs/authority.js";
import { materialFromSecretData, planServingMaterial, secretDataFromMaterial, servingIdentity, type ServingMaterial } from "../../src/certs/rotation.js";

const DAY = 86_400_000;
const identity = servingIdentity([...serviceDnsNames("regcred", "regcred-system"), "127.0.0.1"]);

function pems(bundle: string): string[] {
  return bundle.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
}

function fresh(now = new Date()): ServingMaterial {
  const m = planServingMaterial(undefined, identity, now);
  if (!m) throw new Error("no material planned for an empty Secret");
  return m;
}

describe("self-managed certificate material", () => {
  it("creates a CA and a serving certificate for every Service name and address", () => {
    const m = fresh();
    const cert = new X509Certificate(m.cert);
    for (const name of ["regcred", "regcred.regcred-system", "regcred.regcred-system.svc", "regcred.regcred-system.svc.cluster.local"]) {
      expect(cert.subjectAltName).toContain(`DNS:${name}`);
    }
    expect(cert.subjectAltName).toContain("IP Address:127.0.0.1");
    expect(cert.verify(new X509Certificate(m.caBundle).publicKey)).toBe(true);
    expect(new X509Certificate(m.caBundle).ca).toBe(true);
  });

  it("leaves valid material alone", () => {
    const now = new Date();
    expect(planServingMaterial(fresh(now), identity, new Date(now.getTime() + 30 * DAY))).toBeUndefined();
  });

  it("renews the serving certificate with the same CA once two thirds of its life are gone", () => {
    const start = new Date();
    const m = fresh(start);
    const renewed = planServingMaterial(m, identity, new Date(start.getTime() + 250 * DAY));
    expect(renewed).toBeDefined();
    expect(renewed?.caBundle).toBe(m.caBundle);
    expect(renewed?.cert).not.toBe(m.cert);
    expect(new X509Certificate(renewed?.cert ?? "").verify(new X509Certificate(m.caBundle).publicKey)).toBe(true);
  });

  it("reissues when a name is missing", () => {
    const m = fresh();
    const more = servingIdentity([...identity.dnsNames, "regcred.example.com"]);
    expect(new X509Certificate(planServingMaterial(m, more)?.cert ?? "").subjectAltName).toContain("DNS:regcred.example.com");
  });

  it("renews the CA near its end and keeps the old CA in the bundle while it is valid", () => {
    const start = new Date();
    const m = fresh(start);
    const later = new Date(start.getTime() + 2500 * DAY);
    const renewed = planServingMaterial(m, identity, later);
    expect(renewed?.caKey).not.toBe(m.caKey);
    const bundle = pems(renewed?.caBundle ?? "").map((p) => new X509Certificate(p).fingerprint256);
    expect(bundle).toHaveLength(2);
    expect(bundle[1]).toBe(new X509Certificate(m.caBundle).fingerprint256);
  });

  it("replaces material that does not belong together", () => {
    const m = fresh();
    const other = createAuthority("someone else");
    const foreign = issueServingCertificate(other, identity);
    const fixed = planServingMaterial({ ...m, ...foreign }, identity);
    expect(new X509Certificate(fixed?.cert ?? "").verify(new X509Certificate(m.caBundle).publicKey)).toBe(true);
  });

  it("round-trips through Secret data", () => {
    const m = fresh();
    expect(materialFromSecretData(secretDataFromMaterial(m))).toEqual(m);
    expect(materialFromSecretData({})).toBeUndefined();
    expect(materialFromSecretData(undefined)).toBeUndefined();
  });
});
