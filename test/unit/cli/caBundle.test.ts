/**
 * `regcred why`'s caBundle check for a webhook called through a Service (the chart's setup): the
 * serving certificate in regcred's TLS Secret must be issued by a certificate of the caBundle. The
 * Secret is read through the user's client; here that client is a stand-in holding one Secret.
 */
import { describe, expect, it } from "vitest";
import { ApiException, type V1MutatingWebhook, type V1Secret } from "@kubernetes/client-node";
import { createAuthority, issueServingCertificate, serviceDnsNames } from "../../../src/certs/authority.js";
import { checkCaBundle } from "../../../src/cli/caBundle.js";
import type { KubeClients } from "../../../src/cluster/kube.js";

const authority = createAuthority("regcred-ca");
const serving = issueServingCertificate(authority, { dnsNames: serviceDnsNames("regcred", "regcred-system") });
const b64 = (text: string): string => Buffer.from(text).toString("base64");

function webhookThroughService(caBundle: string | undefined): V1MutatingWebhook {
  return {
    name: "pods.regcred.dev", admissionReviewVersions: ["v1"], sideEffects: "NoneOnDryRun",
    clientConfig: { service: { namespace: "regcred-system", name: "regcred", path: "/mutate/pods" }, ...(caBundle !== undefined ? { caBundle } : {}) },
  };
}

/** A client whose only use here is reading one Secret, or failing as the API server would. */
function clientsHolding(secret: V1Secret | ApiException<unknown>): KubeClients {
  const readNamespacedSecret = (req: { namespace: string; name: string }): Promise<V1Secret> => {
    if (secret instanceof ApiException) return Promise.reject(secret);
    if (req.namespace !== secret.metadata?.namespace || req.name !== secret.metadata.name) {
      return Promise.reject(new ApiException(404, "not found", { kind: "Status", reason: "NotFound", message: `secrets "${req.name}" not found` }, {}));
    }
    return Promise.resolve(secret);
  };
  return { core: { readNamespacedSecret } } as unknown as KubeClients;
}

function tlsSecret(cert: string, name = "regcred-tls"): V1Secret {
  return { metadata: { namespace: "regcred-system", name }, type: "kubernetes.io/tls", data: { "tls.crt": b64(cert), "tls.key": b64(serving.key) } };
}

describe("checkCaBundle through a Service", () => {
  it("matches when the Secret's certificate is issued by the caBundle's CA", async () => {
    const check = await checkCaBundle(clientsHolding(tlsSecret(serving.cert)), webhookThroughService(b64(authority.cert)), "regcred-tls");
    expect(check.result).toBe("matches");
    expect(check.detail).toContain("regcred-system/regcred-tls");
    expect(check.detail).not.toContain(serving.key);
  });

  it("is a mismatch when another CA issued it, and says what the API server reports then", async () => {
    const other = createAuthority("someone-else");
    const check = await checkCaBundle(clientsHolding(tlsSecret(serving.cert)), webhookThroughService(b64(other.cert)), "regcred-tls");
    expect(check.result).toBe("mismatch");
    expect(check.detail).toContain("x509: certificate signed by unknown authority");
  });

  it("finds the issuer among several certificates of the caBundle (a CA being rotated)", async () => {
    const next = createAuthority("regcred-ca-next");
    const check = await checkCaBundle(clientsHolding(tlsSecret(serving.cert)), webhookThroughService(b64(`${next.cert}\n${authority.cert}`)), "regcred-tls");
    expect(check.result).toBe("matches");
  });

  it("is a mismatch when the serving certificate has expired, with its date", async () => {
    const longAgo = new Date(Date.now() - 400 * 24 * 60 * 60 * 1000);
    const expired = issueServingCertificate(authority, { dnsNames: ["regcred.regcred-system.svc"] }, 30, longAgo);
    const check = await checkCaBundle(clientsHolding(tlsSecret(expired.cert)), webhookThroughService(b64(authority.cert)), "regcred-tls");
    expect(check.result).toBe("mismatch");
    expect(check.detail).toMatch(/expired on/);
  });

  it("is unchecked, naming the flag, when the Secret is not there under that name", async () => {
    const check = await checkCaBundle(clientsHolding(tlsSecret(serving.cert, "custom-tls")), webhookThroughService(b64(authority.cert)), "regcred-tls");
    expect(check.result).toBe("unchecked");
    expect(check.detail).toContain("--tls-secret");
  });

  it("is unchecked, with the API server's reason, when the user may not read the Secret", async () => {
    const forbidden = new ApiException(403, "forbidden", { kind: "Status", reason: "Forbidden", message: 'secrets "regcred-tls" is forbidden: User "dev" cannot get resource "secrets"' }, {});
    const check = await checkCaBundle(clientsHolding(forbidden), webhookThroughService(b64(authority.cert)), "regcred-tls");
    expect(check.result).toBe("unchecked");
    expect(check.detail).toContain("cannot be read");
    expect(check.detail).toMatch(/forbidden/i);
  });

  it("is unchecked when the Secret has no tls.crt", async () => {
    const secret = tlsSecret(serving.cert);
    secret.data = {};
    const check = await checkCaBundle(clientsHolding(secret), webhookThroughService(b64(authority.cert)), "regcred-tls");
    expect(check.result).toBe("unchecked");
    expect(check.detail).toContain("no tls.crt");
  });

  it("is missing when the webhook has no caBundle, and a mismatch when it holds no certificate", async () => {
    const clients = clientsHolding(tlsSecret(serving.cert));
    expect((await checkCaBundle(clients, webhookThroughService(undefined), "regcred-tls")).result).toBe("missing");
    expect((await checkCaBundle(clients, webhookThroughService(b64("not a certificate")), "regcred-tls")).result).toBe("mismatch");
  });
});
