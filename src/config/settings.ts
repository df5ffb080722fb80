import { parseArgs } from "node:util";

export type InjectionMode = "optIn" | "allNamespaces";
export type VerificationMode = "Required" | "BestEffort" | "DeclaredOnly";
/**
 * files: the serving certificate comes from --tls-cert-file/--tls-key-file (development, mounted Secrets).
 * self: the leader keeps a CA and serving certificate in the Secret --tls-secret and the caBundle of
 * the webhook configurations named --webhook-config-name; every replica serves it from the Secret.
 * secret: every replica serves the certificate of the Secret --tls-secret, which something else
 * (cert-manager) keeps; the caBundle is left alone.
 */
export type CertMode = "files" | "self" | "secret";
export type LogLevel = "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";

/** Every setting regcred has. The chart sets the same ones through the environment. */
export interface Settings {
  injectionMode: InjectionMode;
  excludedNamespaces: string[];
  verificationMode: VerificationMode;
  allowedSourceNamespaces: string[];
  ownNamespace: string;
  logLevel: LogLevel;
  port: number;
  metricsPort: number;
  bindAddress: string;
  tlsCertFile: string;
  tlsKeyFile: string;
  maxBodyBytes: number;
  copyWriteTimeoutMs: number;
  kubeApiQps: number;
  kubeApiBurst: number;
  leaderElection: boolean;
  registryCaFile: string;
  plainHttpRegistries: string[];
  probeTimeoutMs: number;
  certMode: CertMode;
  tlsSecretName: string;
  serviceName: string;
  webhookConfigName: string;
  extraServingNames: string[];
}

interface Option {
  flag: string;
  env: string;
  help: string;
  default: string;
}

const OPTIONS = {
  injectionMode: { flag: "injection-mode", env: "REGCRED_INJECTION_MODE", default: "optIn",
    help: "optIn: only namespaces annotated regcred.dev/inject=\"true\"; allNamespaces: every namespace not annotated \"false\"" },
  excludedNamespaces: { flag: "excluded-namespaces", env: "REGCRED_EXCLUDED_NAMESPACES", default: "",
    help: "comma-separated namespaces never injected, besides kube-system, kube-public, kube-node-lease and regcred's own" },
  verificationMode: { flag: "verification-mode", env: "REGCRED_VERIFICATION_MODE", default: "BestEffort",
    help: "Required | BestEffort | DeclaredOnly: how exported credentials are checked for write access" },
  allowedSourceNamespaces: { flag: "allowed-source-namespaces", env: "REGCRED_ALLOWED_SOURCE_NAMESPACES", default: "",
    help: "comma-separated namespaces whose exports may target \"*\" (default: regcred's own namespace and registry-creds)" },
  ownNamespace: { flag: "namespace", env: "REGCRED_NAMESPACE", default: "regcred-system",
    help: "the namespace regcred runs in (never injected)" },
  logLevel: { flag: "log-level", env: "REGCRED_LOG_LEVEL", default: "info",
    help: "fatal | error | warn | info | debug | trace | silent" },
  port: { flag: "port", env: "REGCRED_PORT", default: "8443", help: "HTTPS port of the webhooks and health checks" },
  metricsPort: { flag: "metrics-port", env: "REGCRED_METRICS_PORT", default: "9090", help: "plain-HTTP port of /metrics" },
  bindAddress: { flag: "bind-address", env: "REGCRED_BIND_ADDRESS", default: "0.0.0.0", help: "address both ports listen on" },
  tlsCertFile: { flag: "tls-cert-file", env: "REGCRED_TLS_CERT_FILE", default: "certs/tls.crt",
    help: "PEM serving certificate (reloaded when it changes)" },
  tlsKeyFile: { flag: "tls-key-file", env: "REGCRED_TLS_KEY_FILE", default: "certs/tls.key", help: "PEM private key of the serving certificate" },
  maxBodyBytes: { flag: "max-body-bytes", env: "REGCRED_MAX_BODY_BYTES", default: String(8 * 1024 * 1024),
    help: "largest AdmissionReview body accepted; larger ones get HTTP 413" },
  copyWriteTimeoutMs: { flag: "copy-write-timeout-ms", env: "REGCRED_COPY_WRITE_TIMEOUT_MS", default: "3000",
    help: "how long a pod admission waits for a copy write before admitting with a warning" },
  kubeApiQps: { flag: "kube-api-qps", env: "REGCRED_KUBE_API_QPS", default: "50",
    help: "average requests per second the controller sends to the API server" },
  kubeApiBurst: { flag: "kube-api-burst", env: "REGCRED_KUBE_API_BURST", default: "100",
    help: "requests the controller may send at once above its QPS" },
  leaderElection: { flag: "leader-election", env: "REGCRED_LEADER_ELECTION", default: "true",
    help: "true: replicas elect one controller through a Lease; false: this process always acts (a single replica)" },
  registryCaFile: { flag: "registry-ca-file", env: "REGCRED_REGISTRY_CA_FILE", default: "",
    help: "PEM file of extra CA certificates trusted when probing registries (private CAs), besides the system's" },
  plainHttpRegistries: { flag: "plain-http-registries", env: "REGCRED_PLAIN_HTTP_REGISTRIES", default: "",
    help: "comma-separated registry hosts (host[:port]) that may be probed over plain HTTP; all others need HTTPS" },
  probeTimeoutMs: { flag: "probe-timeout-ms", env: "REGCRED_PROBE_TIMEOUT_MS", default: "4000",
    help: "time budget of the write-access probes of one admission request (well inside the webhook timeout)" },
  certMode: { flag: "cert-mode", env: "REGCRED_CERT_MODE", default: "files",
    help: "files | self | secret: where the serving certificate comes from (the chart uses self, or secret with cert-manager)" },
  tlsSecretName: { flag: "tls-secret", env: "REGCRED_TLS_SECRET", default: "regcred-tls",
    help: "Secret in regcred's namespace holding the serving certificate (cert modes self and secret)" },
  serviceName: { flag: "service-name", env: "REGCRED_SERVICE_NAME", default: "regcred",
    help: "the Service the API server calls; its DNS names go into the self-managed certificate" },
  webhookConfigName: { flag: "webhook-config-name", env: "REGCRED_WEBHOOK_CONFIG_NAME", default: "regcred",
    help: "name of the Mutating/ValidatingWebhookConfiguration whose caBundle cert mode self keeps" },
  extraServingNames: { flag: "extra-serving-names", env: "REGCRED_EXTRA_SERVING_NAMES", default: "",
    help: "comma-separated extra DNS names or IP addresses for the self-managed certificate (an out-of-cluster regcred)" },
} satisfies Record<keyof Settings, Option>;

export class SettingsError extends Error {
  override name = "SettingsError";
}

export function helpText(): string {
  const lines = ["Usage: regcred [options]", "", "Every option can also be set through its environment variable.", ""];
  for (const o of Object.values(OPTIONS)) {
    lines.push(`  --${o.flag}  (${o.env}, default ${o.default === "" ? "none" : JSON.stringify(o.default)})`, `      ${o.help}`);
  }
  lines.push("  --help", "      print this help", "", "The Kubernetes connection comes from KUBECONFIG, ~/.kube/config or the in-cluster service account.");
  return lines.join("\n");
}

/** Settings from flags, then environment, then defaults. Throws SettingsError naming the bad value. */
export function loadSettings(argv: string[], env: NodeJS.ProcessEnv): Settings {
  const { values } = parseArgs({
    args: argv,
    options: Object.fromEntries(Object.values(OPTIONS).map((o) => [o.flag, { type: "string" as const }])),
    strict: true,
    allowPositionals: false,
  });
  const raw = (key: keyof Settings): string => {
    const o: Option = OPTIONS[key];
    const fromFlag = values[o.flag];
    // An empty variable counts as unset, as a chart that renders `value: ""` means.
    const fromEnv = env[o.env] === "" ? undefined : env[o.env];
    return (typeof fromFlag === "string" ? fromFlag : undefined) ?? fromEnv ?? o.default;
  };
  const ownNamespace = raw("ownNamespace");
  const allowed = list(raw("allowedSourceNamespaces"));
  return {
    injectionMode: oneOf(raw("injectionMode"), ["optIn", "allNamespaces"] as const, OPTIONS.injectionMode),
    excludedNamespaces: list(raw("excludedNamespaces")),
    verificationMode: oneOf(raw("verificationMode"), ["Required", "BestEffort", "DeclaredOnly"] as const, OPTIONS.verificationMode),
    allowedSourceNamespaces: allowed.length > 0 ? allowed : [ownNamespace, "registry-creds"],
    ownNamespace,
    logLevel: oneOf(raw("logLevel"), ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const, OPTIONS.logLevel),
    port: integer(raw("port"), OPTIONS.port, 0, 65535),
    metricsPort: integer(raw("metricsPort"), OPTIONS.metricsPort, 0, 65535),
    bindAddress: raw("bindAddress"),
    tlsCertFile: raw("tlsCertFile"),
    tlsKeyFile: raw("tlsKeyFile"),
    maxBodyBytes: integer(raw("maxBodyBytes"), OPTIONS.maxBodyBytes, 1024, 64 * 1024 * 1024),
    copyWriteTimeoutMs: integer(raw("copyWriteTimeoutMs"), OPTIONS.copyWriteTimeoutMs, 100, 30_000),
    kubeApiQps: integer(raw("kubeApiQps"), OPTIONS.kubeApiQps, 1, 10_000),
    kubeApiBurst: integer(raw("kubeApiBurst"), OPTIONS.kubeApiBurst, 1, 10_000),
    leaderElection: oneOf(raw("leaderElection"), ["true", "false"] as const, OPTIONS.leaderElection) === "true",
    registryCaFile: raw("registryCaFile"),
    plainHttpRegistries: list(raw("plainHttpRegistries")),
    probeTimeoutMs: integer(raw("probeTimeoutMs"), OPTIONS.probeTimeoutMs, 100, 25_000),
    certMode: oneOf(raw("certMode"), ["files", "self", "secret"] as const, OPTIONS.certMode),
    tlsSecretName: raw("tlsSecretName"),
    serviceName: raw("serviceName"),
    webhookConfigName: raw("webhookConfigName"),
    extraServingNames: list(raw("extraServingNames")),
  };
}

function list(value: string): string[] {
  return value.split(",").map((s) => s.trim()).filter((s) => s.length > 0);
}

function oneOf<T extends string>(value: string, allowed: readonly T[], o: Option): T {
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new SettingsError(`--${o.flag} (${o.env}) is "${value}"; use one of: ${allowed.join(", ")}`);
}

function integer(value: string, o: Option, min: number, max: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new SettingsError(`--${o.flag} (${o.env}) is "${value}"; use a whole number from ${min} to ${max}`);
  }
  return n;
}
