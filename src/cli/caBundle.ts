/**
 * Whether the pod webhook's `caBundle` matches the certificate regcred serves:
 * - a webhook called at a URL: a TLS handshake with that URL, trusting only the caBundle, as the API
 *   server does (certificate chain and host name);
 * - a webhook called through a Service: the serving certificate in regcred's TLS Secret (read with
 *   the user's credentials) must be issued by a certificate of the caBundle.
 */
import { X509Certificate } from "node:crypto";
import { isIP } from "node:net";
import { connect as tlsConnect } from "node:tls";
import type { V1MutatingWebhook } from "@kubernetes/client-node";
import type { KubeClients } from "../cluster/kube.js";
import { apiFailure, formatFailure, isNotFound } from "./apiError.js";
import type { CaBundleCheck } from "./why.js";

export async function checkCaBundle(clients: KubeClients, webhook: V1MutatingWebhook, tlsSecretName: string, timeoutMs = 3_000): Promise<CaBundleCheck> {
  const b64 = webhook.clientConfig.caBundle ?? "";
  if (b64 === "") {
    return { result: "missing", detail: "the pod webhook has no caBundle: the API server cannot trust regcred's certificate (self-managed certificates: regcred's leader fills it in; cert-manager: check that cainjector runs)" };
  }
  const pem = Buffer.from(b64, "base64").toString("utf8");
  const cas = pemCertificates(pem);
  if (cas.length === 0) return { result: "mismatch", detail: "the pod webhook's caBundle holds no PEM certificate" };
  const url = webhook.clientConfig.url;
  if (url !== undefined) return handshake(url, pem, timeoutMs);
  const service = webhook.clientConfig.service;
  if (!service) return { result: "unchecked", detail: "the pod webhook names neither a URL nor a Service" };
  let data: Record<string, string> | undefined;
  try {
    data = (await clients.core.readNamespacedSecret({ namespace: service.namespace, name: tlsSecretName })).data;
  } catch (err) {
    if (isNotFound(err)) return { result: "unchecked", detail: `caBundle not compared: no Secret ${service.namespace}/${tlsSecretName} holds the serving certificate (pass --tls-secret NAME if it has another name)` };
    return { result: "unchecked", detail: `caBundle not compared: the serving certificate Secret ${service.namespace}/${tlsSecretName} cannot be read: ${formatFailure(apiFailure(err))}` };
  }
  const leafPem = Buffer.from(data?.["tls.crt"] ?? "", "base64").toString("utf8");
  const leaf = pemCertificates(leafPem)[0];
  if (!leaf) return { result: "unchecked", detail: `caBundle not compared: Secret ${service.namespace}/${tlsSecretName} has no tls.crt` };
  const issuer = cas.find((ca) => leaf.checkIssued(ca) && leaf.verify(ca.publicKey));
  const where = `the serving certificate in Secret ${service.namespace}/${tlsSecretName}`;
  if (!issuer) return { result: "mismatch", detail: `caBundle does not match ${where}: the API server's calls fail with "x509: certificate signed by unknown authority"` };
  if (Date.parse(leaf.validTo) < Date.now()) return { result: "mismatch", detail: `caBundle matches ${where}, but that certificate expired on ${leaf.validTo}` };
  return { result: "matches", detail: `caBundle matches ${where} (issued by ${issuer.subject.replace(/\n/g, ", ")}, valid until ${leaf.validTo})` };
}

function handshake(url: string, ca: string, timeoutMs: number): Promise<CaBundleCheck> {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    return Promise.resolve({ result: "mismatch", detail: `the pod webhook's URL ${url} is not a URL` });
  }
  const host = target.hostname.replace(/^\[|\]$/g, "");
  const port = Number(target.port || 443);
  return new Promise((resolve) => {
    const socket = tlsConnect({ host, port, ca, ...(isIP(host) === 0 ? { servername: host } : {}), timeout: timeoutMs, ALPNProtocols: ["http/1.1"] });
    const done = (r: CaBundleCheck): void => {
      socket.destroy();
      resolve(r);
    };
    socket.once("secureConnect", () => {
      done(socket.authorized
        ? { result: "matches", detail: `caBundle matches the certificate served at ${target.origin} (verified with a TLS handshake)` }
        : { result: "mismatch", detail: `caBundle does not match the certificate served at ${target.origin} (${String(socket.authorizationError)})` });
    });
    socket.once("timeout", () => { done({ result: "unreachable", detail: `regcred does not answer at ${target.origin} within ${timeoutMs} ms, so the caBundle could not be compared; with failurePolicy Fail, pods in opted-in namespaces cannot be created` }); });
    socket.once("error", (err: NodeJS.ErrnoException) => {
      const code = err.code ?? err.name;
      if (/CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO|ALTNAME/i.test(code)) {
        done({ result: "mismatch", detail: `caBundle does not match the certificate served at ${target.origin} (${code}): the API server's calls fail the same way` });
      } else {
        done({ result: "unreachable", detail: `regcred cannot be reached at ${target.origin} (${code}), so the caBundle could not be compared; with failurePolicy Fail, pods in opted-in namespaces cannot be created` });
      }
    });
  });
}

function pemCertificates(pem: string): X509Certificate[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  const out: X509Certificate[] = [];
  for (const block of blocks) {
    try {
      out.push(new X509Certificate(block));
    } catch {
      // not a certificate: ignored
    }
  }
  return out;
}
