/** `regcred why POD -n NS`: why a pod did or did not get registry credentials. */
import type { V1MutatingWebhookConfiguration, V1Pod, V1Secret } from "@kubernetes/client-node";
import { resolveSpec } from "../../api/types.js";
import { exportTargetsNamespace } from "../../admission/eligibility.js";
import { namespaceInfo } from "../../cluster/state.js";
import { copyName } from "../../copies/naming.js";
import { apiCliError, apiFailure, formatFailure, isNotFound } from "../apiError.js";
import { EXIT, stringValue, validateNamespaceName, validateObjectName, type ParsedCommand } from "../args.js";
import { checkCaBundle } from "../caBundle.js";
import type { Command, CommandContext } from "../command.js";
import type { Connection } from "../kube.js";
import { listExports } from "../operations.js";
import { renderStructured } from "../output.js";
import { explainPod, podWebhook, renderExplanation, type CaBundleCheck, type ExportEvidence, type WhyInput } from "../why.js";

export const why: Command = {
  name: "why",
  summary: "explain why a pod did or did not get registry credentials from regcred",
  positionals: ["POD"],
  globals: ["namespace", "output"],
  options: {
    "tls-secret": { type: "string", value: "NAME", help: "Secret holding regcred's serving certificate, for a webhook called through a Service (default regcred-tls)" },
  },
  details: `Checks, with what you may read: the namespace's opt-in, the exports that target it (and those
that do not), each image against each registry key of each export (the kubelet's matching rules),
each copy in the pod's namespace, and whether regcred's pod webhook is registered, selects the
namespace, and has a caBundle that matches the certificate regcred serves.

Example:
  regcred why app-7d9c -n team-a`,

  async run(ctx: CommandContext, args: ParsedCommand): Promise<number> {
    const podName = args.positionals[0] ?? "";
    validateObjectName("POD", podName);
    if (args.namespace !== undefined) validateNamespaceName("--namespace", args.namespace);
    const conn = ctx.connect();
    const namespace = ctx.namespace(conn);
    const input = await gather(conn, namespace, podName, stringValue(args.values["tls-secret"]) ?? "regcred-tls");
    const explanation = explainPod(input);
    if (args.output === "table") {
      ctx.io.out(renderExplanation(explanation));
    } else {
      ctx.io.out(renderStructured(explanation, args.output));
    }
    return EXIT.ok;
  },
};

async function gather(conn: Connection, namespace: string, podName: string, tlsSecret: string): Promise<WhyInput> {
  const { core, admissionRegistration } = conn.clients;
  let pod: V1Pod;
  try {
    pod = await core.readNamespacedPod({ namespace, name: podName });
  } catch (err) {
    throw apiCliError(err);
  }
  const input: WhyInput = { pod, namespace: undefined, exports: [], webhookConfig: undefined, caBundle: { result: "unchecked", detail: "caBundle not compared" } };

  const [nsResult, exportsResult, webhookResult] = await Promise.allSettled([
    core.readNamespace({ name: namespace }),
    (async () => {
      const warnings: string[] = [];
      const exports = await listExports(conn.clients, { allNamespaces: true }, warnings);
      return { exports, warnings };
    })(),
    admissionRegistration.listMutatingWebhookConfiguration(),
  ]);
  if (nsResult.status === "fulfilled") input.namespace = namespaceInfo(nsResult.value);
  else input.namespaceError = formatFailure(apiFailure(nsResult.reason));
  if (webhookResult.status === "fulfilled") {
    input.webhookConfig = webhookResult.value.items.find((c: V1MutatingWebhookConfiguration) => podWebhook(c) !== undefined);
  } else {
    input.webhookError = formatFailure(apiFailure(webhookResult.reason));
  }
  if (exportsResult.status === "rejected") {
    input.exportsError = formatFailure(apiFailure(exportsResult.reason));
  } else {
    if (exportsResult.value.warnings.length > 0) input.exportsError = exportsResult.value.warnings.join("; ");
    const ns = input.namespace;
    input.exports = await Promise.all(exportsResult.value.exports.map(async (exp): Promise<ExportEvidence> => {
      const ev: ExportEvidence = { export: exp, source: undefined, copy: undefined };
      // Only what could apply is read further: the sources and copies of exports that target the namespace.
      if (ns && !exportTargetsNamespace(resolveSpec(exp.spec), ns)) return ev;
      const expNs = exp.metadata.namespace ?? "";
      const expName = exp.metadata.name ?? "";
      const [source, copy] = await Promise.all([
        readSecret(conn, expNs, expName),
        expNs === namespace ? Promise.resolve<SecretRead>({}) : readSecret(conn, namespace, copyName(expNs, expName)),
      ]);
      if (source.secret) ev.source = source.secret;
      if (source.error) ev.sourceError = source.error;
      if (copy.secret) ev.copy = copy.secret;
      if (copy.error) ev.copyError = copy.error;
      return ev;
    }));
  }
  const webhook = podWebhook(input.webhookConfig);
  input.caBundle = webhook ? await checkCaBundle(conn.clients, webhook, tlsSecret) : notRegistered();
  return input;
}

function notRegistered(): CaBundleCheck {
  return { result: "unchecked", detail: "caBundle not compared: the pod webhook is not registered" };
}

interface SecretRead {
  secret?: V1Secret;
  error?: string;
}

async function readSecret(conn: Connection, namespace: string, name: string): Promise<SecretRead> {
  try {
    return { secret: await conn.clients.core.readNamespacedSecret({ namespace, name }) };
  } catch (err) {
    if (isNotFound(err)) return {};
    return { error: formatFailure(apiFailure(err)) };
  }
}
