import { describe, it, expect } from "vitest";
import { helpText, loadSettings, SettingsError } from "../../src/config/settings.js";
import type { Settings } from "../../src/config/settings.js";

const ENV_VARS = [
  "REGCRED_INJECTION_MODE", "REGCRED_EXCLUDED_NAMESPACES", "REGCRED_VERIFICATION_MODE", "REGCRED_ALLOWED_SOURCE_NAMESPACES",
  "REGCRED_NAMESPACE", "REGCRED_LOG_LEVEL", "REGCRED_PORT", "REGCRED_METRICS_PORT", "REGCRED_BIND_ADDRESS", "REGCRED_TLS_CERT_FILE",
  "REGCRED_TLS_KEY_FILE", "REGCRED_MAX_BODY_BYTES", "REGCRED_COPY_WRITE_TIMEOUT_MS", "REGCRED_KUBE_API_QPS", "REGCRED_KUBE_API_BURST",
  "REGCRED_LEADER_ELECTION", "REGCRED_REGISTRY_CA_FILE", "REGCRED_PLAIN_HTTP_REGISTRIES", "REGCRED_PROBE_TIMEOUT_MS",
];

function settingsError(argv: string[], env: NodeJS.ProcessEnv = {}): SettingsError {
  try {
    loadSettings(argv, env);
  } catch (err) {
    if (err instanceof SettingsError) return err;
    throw err;
  }
  throw new Error("expected a SettingsError");
}

describe("loadSettings: defaults", () => {
  it("are the contract's", () => {
    expect(loadSettings([], {})).toMatchObject({
      injectionMode: "optIn",
      excludedNamespaces: [],
      verificationMode: "BestEffort",
      allowedSourceNamespaces: ["regcred-system", "registry-creds"],
      ownNamespace: "regcred-system",
      logLevel: "info",
      port: 8443,
      metricsPort: 9090,
      bindAddress: "0.0.0.0",
      tlsCertFile: "certs/tls.crt",
      tlsKeyFile: "certs/tls.key",
      maxBodyBytes: 8 * 1024 * 1024,
      copyWriteTimeoutMs: 3000,
      kubeApiQps: 50,
      kubeApiBurst: 100,
      leaderElection: true,
      registryCaFile: "",
      plainHttpRegistries: [],
      probeTimeoutMs: 4000,
    } satisfies Partial<Settings>);
  });

  it("allowedSourceNamespaces defaults to the namespace regcred runs in and registry-creds", () => {
    expect(loadSettings(["--namespace", "platform"], {}).allowedSourceNamespaces).toEqual(["platform", "registry-creds"]);
    expect(loadSettings([], { REGCRED_NAMESPACE: "ops" }).allowedSourceNamespaces).toEqual(["ops", "registry-creds"]);
  });

  it("an explicit allowedSourceNamespaces replaces the default", () => {
    expect(loadSettings([], { REGCRED_ALLOWED_SOURCE_NAMESPACES: "a, b ,,c" }).allowedSourceNamespaces).toEqual(["a", "b", "c"]);
  });
});

describe("loadSettings: environment and flags", () => {
  it("reads every setting from its environment variable", () => {
    const s = loadSettings([], {
      REGCRED_INJECTION_MODE: "allNamespaces", REGCRED_EXCLUDED_NAMESPACES: "legacy, sandbox", REGCRED_VERIFICATION_MODE: "Required",
      REGCRED_ALLOWED_SOURCE_NAMESPACES: "creds", REGCRED_NAMESPACE: "rc", REGCRED_LOG_LEVEL: "debug", REGCRED_PORT: "9443",
      REGCRED_METRICS_PORT: "9091", REGCRED_BIND_ADDRESS: "127.0.0.1", REGCRED_TLS_CERT_FILE: "/tls/crt", REGCRED_TLS_KEY_FILE: "/tls/key",
      REGCRED_MAX_BODY_BYTES: "2048", REGCRED_COPY_WRITE_TIMEOUT_MS: "500", REGCRED_KUBE_API_QPS: "5", REGCRED_KUBE_API_BURST: "10",
      REGCRED_LEADER_ELECTION: "false", REGCRED_REGISTRY_CA_FILE: "/ca.pem", REGCRED_PLAIN_HTTP_REGISTRIES: "zot.local:5000, reg.lan",
      REGCRED_PROBE_TIMEOUT_MS: "2500",
    });
    expect(s).toMatchObject({
      injectionMode: "allNamespaces", excludedNamespaces: ["legacy", "sandbox"], verificationMode: "Required",
      allowedSourceNamespaces: ["creds"], ownNamespace: "rc", logLevel: "debug", port: 9443, metricsPort: 9091,
      bindAddress: "127.0.0.1", tlsCertFile: "/tls/crt", tlsKeyFile: "/tls/key", maxBodyBytes: 2048, copyWriteTimeoutMs: 500,
      kubeApiQps: 5, kubeApiBurst: 10, leaderElection: false, registryCaFile: "/ca.pem", plainHttpRegistries: ["zot.local:5000", "reg.lan"],
      probeTimeoutMs: 2500,
    } satisfies Partial<Settings>);
  });

  it("a flag wins over the environment", () => {
    const env = { REGCRED_INJECTION_MODE: "allNamespaces", REGCRED_PORT: "9443", REGCRED_VERIFICATION_MODE: "Required" };
    const s = loadSettings(["--injection-mode", "optIn", "--port=10443"], env);
    expect(s.injectionMode).toBe("optIn");
    expect(s.port).toBe(10443);
    expect(s.verificationMode).toBe("Required");
  });

  it("a good flag does not excuse a bad environment variable it does not override", () => {
    expect(() => loadSettings(["--port", "9443"], { REGCRED_METRICS_PORT: "lots" })).toThrow(SettingsError);
  });

  it("a good flag overrides a bad environment variable", () => {
    expect(loadSettings(["--log-level", "warn"], { REGCRED_LOG_LEVEL: "loud" }).logLevel).toBe("warn");
  });

  it("refuses an unknown flag", () => {
    expect(() => loadSettings(["--no-such-flag", "x"], {})).toThrow(/no-such-flag/);
  });
});

describe("loadSettings: bad values", () => {
  it.each([
    [["--injection-mode", "some"], {}, "injection-mode", "REGCRED_INJECTION_MODE"],
    [[], { REGCRED_VERIFICATION_MODE: "Strict" }, "verification-mode", "REGCRED_VERIFICATION_MODE"],
    [["--log-level", "verbose"], {}, "log-level", "REGCRED_LOG_LEVEL"],
    [["--port", "70000"], {}, "port", "REGCRED_PORT"],
    [[], { REGCRED_PORT: "84.43" }, "port", "REGCRED_PORT"],
    [[], { REGCRED_METRICS_PORT: "-1" }, "metrics-port", "REGCRED_METRICS_PORT"],
    [["--max-body-bytes", "10"], {}, "max-body-bytes", "REGCRED_MAX_BODY_BYTES"],
    [[], { REGCRED_COPY_WRITE_TIMEOUT_MS: "forever" }, "copy-write-timeout-ms", "REGCRED_COPY_WRITE_TIMEOUT_MS"],
    [["--kube-api-qps", "0"], {}, "kube-api-qps", "REGCRED_KUBE_API_QPS"],
    [[], { REGCRED_KUBE_API_BURST: "1e9" }, "kube-api-burst", "REGCRED_KUBE_API_BURST"],
    [["--leader-election", "yes"], {}, "leader-election", "REGCRED_LEADER_ELECTION"],
    [[], { REGCRED_PROBE_TIMEOUT_MS: "30000" }, "probe-timeout-ms", "REGCRED_PROBE_TIMEOUT_MS"],
  ] as const)("%j %j names --%s and %s", (argv, env, flag, envVar) => {
    const err = settingsError([...argv], env);
    expect(err.name).toBe("SettingsError");
    expect(err.message).toContain(`--${flag}`);
    expect(err.message).toContain(envVar);
  });

  it("says which values are accepted", () => {
    expect(settingsError(["--verification-mode", "strict"]).message).toContain("Required, BestEffort, DeclaredOnly");
    expect(settingsError(["--port", "x"]).message).toMatch(/whole number from 0 to 65535/);
    expect(settingsError(["--port", "x"]).message).toContain('"x"');
  });
});

describe("helpText", () => {
  const text = helpText();

  it.each(ENV_VARS)("lists %s", (envVar) => {
    expect(text).toContain(envVar);
  });

  it("lists every flag with its default, and --help", () => {
    for (const flag of ["injection-mode", "excluded-namespaces", "verification-mode", "allowed-source-namespaces", "namespace", "log-level",
      "port", "metrics-port", "bind-address", "tls-cert-file", "tls-key-file", "max-body-bytes", "copy-write-timeout-ms", "kube-api-qps",
      "kube-api-burst", "leader-election", "registry-ca-file", "plain-http-registries", "probe-timeout-ms", "help"]) {
      expect(text).toMatch(new RegExp(`^  --${flag}\\b`, "m"));
    }
    expect(text).toContain('default "8443"');
    expect(text).toContain('default "BestEffort"');
  });

  it("documents each env var beside its flag", () => {
    expect(text).toMatch(/--port {2}\(REGCRED_PORT, default "8443"\)/);
    expect(text).toMatch(/--excluded-namespaces {2}\(REGCRED_EXCLUDED_NAMESPACES, default none\)/);
  });
});
