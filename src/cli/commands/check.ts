/** `regcred check NAME -n NS`: the write-access probe, run from the client. */
import { ApiException } from "@kubernetes/client-node";
import { resolveSpec } from "../../api/types.js";
import { loadSettings } from "../../config/settings.js";
import { createLogger } from "../../observability/logger.js";
import type { AccessCheck, AccessSubject } from "../../registry/access.js";
import { parseSourceSecret } from "../../registry/dockerConfig.js";
import { apiCliError, CliError, isNotFound } from "../apiError.js";
import { EXIT, listValue, stringValue, UsageError, type ParsedCommand, secretNameArgument } from "../args.js";
import type { Command, CommandContext } from "../command.js";
import { readExport } from "../operations.js";
import { renderStructured, safeText } from "../output.js";

const DEFAULT_TIMEOUT_MS = 15_000;

export const check: Command = {
  name: "check",
  summary: "probe whether a registry secret's credentials can write (push or delete), from this machine",
  positionals: ["NAME"],
  globals: ["namespace", "output"],
  options: {
    repositories: { type: "string", value: "REPO,...", help: "repositories to probe (default: the export's spec.verification.repositories, else derived)" },
    "plain-http-registries": { type: "string", value: "HOST[:PORT],...", help: "registries that may be probed over plain HTTP (all others need HTTPS)" },
    "registry-ca-file": { type: "string", value: "FILE", help: "PEM file of extra CA certificates for registries with a private CA" },
    timeout: { type: "string", value: "DURATION", help: `time budget of the probes, e.g. 20s (default ${DEFAULT_TIMEOUT_MS / 1000}s; 10s or more retries an unclear answer)` },
  },
  details: `Runs the same probes as regcred's webhook (token scope for token registries, a cancelled blob
upload for basic-auth registries), with the secret's credentials, from this machine: the registry
must be reachable from here. Nothing is left behind in the registry, and nothing is written to the
cluster.

Exit codes: 0 read-only, 3 writable, 4 could not tell, 1 the secret cannot be read.

Example:
  regcred check harbor-ro -n registry-creds`,

  async run(ctx: CommandContext, args: ParsedCommand): Promise<number> {
    const name = secretNameArgument(args);
    const budgetMs = parseDuration(stringValue(args.values.timeout));
    const repositoriesFlag = listValue(args.values.repositories);
    const plainHttp = listValue(args.values["plain-http-registries"]) ?? [];
    const caFile = stringValue(args.values["registry-ca-file"]) ?? "";

    const conn = ctx.connect();
    const namespace = ctx.namespace(conn);
    let secret;
    try {
      secret = await conn.clients.core.readNamespacedSecret({ namespace, name });
    } catch (err) {
      if (isNotFound(err)) throw new CliError(`Error from server (NotFound): secrets "${name}" not found in namespace ${namespace}`);
      throw apiCliError(err);
    }
    const creds = parseSourceSecret({ type: secret.type, data: secret.data });
    if (!creds.ok) throw new CliError(`error: secret ${namespace}/${name} holds no usable registry credentials: ${creds.message}`);
    const exp = await readExport(conn.clients, namespace, name).catch((err: unknown) => {
      // Not allowed to read exports: probe with derived repositories.
      if (err instanceof ApiException) return undefined;
      throw err;
    });
    const subject: AccessSubject = {
      namespace, name,
      resourceVersion: secret.metadata?.resourceVersion ?? "",
      annotations: secret.metadata?.annotations ?? {},
      credentials: creds.credentials,
      repositories: repositoriesFlag ?? resolveSpec(exp?.spec).repositories,
    };

    let settings;
    try {
      settings = loadSettings([], {
        REGCRED_VERIFICATION_MODE: "BestEffort",
        REGCRED_PLAIN_HTTP_REGISTRIES: plainHttp.join(","),
        REGCRED_REGISTRY_CA_FILE: caFile,
      });
    } catch (err) {
      throw new UsageError(`check: ${err instanceof Error ? err.message : "bad settings"}`);
    }
    // Loaded here, not at start: the probes need Node 24 (node:tls getCACertificates), the other commands do not.
    const { createAccessChecker } = await import("../../registry/probes/index.js");
    let checker;
    try {
      checker = createAccessChecker(settings, createLogger("silent"));
    } catch (err) {
      throw new UsageError(`check: ${err instanceof Error ? (err.message.split("\n", 1)[0] ?? "") : "cannot set up the probes"}`);
    }
    const result = await checker.check(subject, budgetMs);
    const recorded = exp?.status?.access;
    if (args.output === "table") {
      ctx.io.out(renderCheck(`${namespace}/${name}`, result, recorded));
    } else {
      ctx.io.out(renderStructured({ namespace, name, ...result, ...(recorded ? { recordedByRegcred: recorded } : {}) }, args.output));
    }
    return result.verdict === "ReadOnly" ? EXIT.ok : result.verdict === "Writable" ? EXIT.writable : EXIT.unknown;
  },
};

export function renderCheck(source: string, r: AccessCheck, recorded?: { verdict: string; method: string; checkedAt: string }): string {
  const lines = [
    `Secret:       ${source}`,
    `Verdict:      ${r.verdict}`,
    `Method:       ${methodText(r.method)}`,
    ...(r.registry ? [`Registry:     ${r.registry}`] : []),
    ...(r.repository ? [`Repository:   ${r.repository}`] : []),
    `Found:        ${r.message}`,
  ];
  if (recorded) lines.push(`regcred says: ${recorded.verdict} (by ${recorded.method} at ${recorded.checkedAt}, from inside the cluster)`);
  return `${lines.map(safeText).join("\n")}\n`;
}

function methodText(method: string): string {
  switch (method) {
    case "token-scope": return "token-scope (asked the token service for pull,push and read what it granted)";
    case "upload": return "upload (started a blob upload and cancelled it)";
    case "token-scope+upload": return "token-scope+upload (an opaque token, so a cancelled blob upload with it)";
    case "declared": return "declared (the secret's regcred.dev/access annotation)";
    case "none": return "none (no probe could answer)";
    default: return method;
  }
}

/** `20s`, `1500ms`, `2m`, or a number of seconds. */
export function parseDuration(text: string | undefined): number {
  if (text === undefined) return DEFAULT_TIMEOUT_MS;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  if (!m) throw new UsageError("--timeout must be a duration such as 20s, 1500ms or 2m");
  const n = Number(m[1]);
  const ms = m[2] === "ms" ? n : m[2] === "m" ? n * 60_000 : n * 1000;
  if (ms < 500 || ms > 120_000) throw new UsageError("--timeout must be between 500ms and 2m");
  return Math.round(ms);
}
