/**
 * The write-access probes of one registry key: find out how the registry authenticates (`GET /v2/`),
 * then, per probed repository,
 * - token-scope: ask the token service for `repository:<repo>:pull,push` and read the granted
 *   actions from the token's `access` claim (push, delete or `*` granted: Writable);
 * - upload: `POST /v2/<repo>/blobs/uploads/`; 202 is Writable and the upload is cancelled at once
 *   (`DELETE` on its Location), 401/403 is not writable, anything else is Unknown.
 * An opaque token (not a JWT with an `access` claim) falls back to the upload probe, sent with
 * that token.
 *
 * Nothing here puts a credential, a token or a response body into a result or a log line.
 */
import type { Logger } from "../../observability/logger.js";
import type { RegistryCredential } from "../dockerConfig.js";
import { findChallenge, parseChallenges, type Challenge } from "./challenge.js";
import { mayUseUrl, type RegistryEndpoint } from "./endpoint.js";
import { ProbeNetworkError, type HttpResponse, type ProbeHttp } from "./http.js";
import { decodeAccessClaim, grantedActions, grantsWrite } from "./jwt.js";
import type { ProbeMethod, ProbeResult } from "./verdict.js";

export interface ProbeContext {
  http: ProbeHttp;
  plainHttpRegistries: readonly string[];
  log: Logger;
  /** Epoch milliseconds: every request of this probe ends by then. */
  deadline: number;
}

/** How long a started upload may take to cancel after the deadline has passed; it is never abandoned earlier. */
const CANCEL_GRACE_MS = 10_000;
const CLIENT_ID = "regcred";

type Auth = { header: string } | undefined;

/** Probes every repository of one registry key; one result per repository, or one for the registry when it cannot be reached. */
export async function probeRegistry(
  credential: RegistryCredential,
  endpoint: RegistryEndpoint,
  repositories: readonly string[],
  ctx: ProbeContext,
): Promise<ProbeResult[]> {
  const registry = endpoint.registry;
  const registryLevel = (reason: string): ProbeResult[] => [{ verdict: "Unknown", method: "none", registry, reason }];
  if (repositories.length === 0) return registryLevel("no repository to probe");

  let ping: HttpResponse;
  try {
    ping = await ctx.http.send({ method: "GET", url: new URL("/v2/", endpoint.origin), deadline: ctx.deadline });
  } catch (err) {
    return registryLevel(`GET /v2/ failed: ${networkReason(err)}`);
  }
  const challenges = parseChallenges(ping.headers["www-authenticate"]);
  const bearer = findChallenge(challenges, "bearer");
  if (ping.status === 401 && bearer?.params.realm !== undefined) {
    return Promise.all(repositories.map((repo) => tokenScope(credential, endpoint, bearer, repo, ctx)));
  }
  if (ping.status === 401 || (ping.status >= 200 && ping.status < 300)) {
    const basic = basicAuth(credential);
    if (basic === undefined) {
      return registryLevel(ping.status === 401
        ? "the registry asks for a username and password (Basic auth) and the credentials have only a token"
        : "the registry does not ask for a token (GET /v2/ needs no credentials) and the credentials have only a token, so the upload probe cannot run");
    }
    return Promise.all(repositories.map((repo) => upload(endpoint, repo, basic, ctx)));
  }
  return registryLevel(`GET /v2/ answered HTTP ${ping.status}${statusHint(ping.status)}`);
}

async function tokenScope(
  credential: RegistryCredential,
  endpoint: RegistryEndpoint,
  challenge: Challenge,
  repository: string,
  ctx: ProbeContext,
): Promise<ProbeResult> {
  const registry = endpoint.registry;
  const result = (verdict: ProbeResult["verdict"], reason: string): ProbeResult => ({ verdict, method: "token-scope", registry, repository, reason });
  const scope = `repository:${repository}:pull,push`;

  // A registry token is already the bearer token the registry takes: read it as it is.
  let token: string | undefined = credential.registryToken;
  if (token === undefined) {
    let realm: URL;
    try {
      realm = new URL(challenge.params.realm ?? "");
    } catch {
      return result("Unknown", "the registry's Bearer challenge names a token service address that is not a URL");
    }
    if (!mayUseUrl(realm, ctx.plainHttpRegistries)) {
      return result("Unknown", `the token service ${realm.host} is not served over HTTPS and is not on the plain-HTTP allow-list; the credentials were not sent`);
    }
    const fetched = await fetchToken(credential, realm, challenge.params.service, scope, ctx);
    if (fetched.kind === "refused") return result("ReadOnly", `the token service refused these credentials (HTTP ${fetched.status}), so they cannot push to ${repository}`);
    if (fetched.kind === "failed") return result("Unknown", fetched.reason);
    token = fetched.token;
  }

  const claims = decodeAccessClaim(token);
  if (claims.kind === "opaque") {
    // Nothing to read: try the write itself, with the token.
    return upload(endpoint, repository, { header: `Bearer ${token}` }, ctx, "token-scope+upload");
  }
  const actions = grantedActions(claims.access, repository);
  const granted = actions.length === 0 ? "nothing" : actions.join(",");
  if (grantsWrite(actions)) {
    return result("Writable", `the token service granted ${granted} on ${repository} when asked for pull,push`);
  }
  return result("ReadOnly", `the token service granted ${granted} on ${repository} when asked for pull,push`);
}

type TokenFetch = { kind: "token"; token: string } | { kind: "refused"; status: number } | { kind: "failed"; reason: string };

async function fetchToken(credential: RegistryCredential, realm: URL, service: string | undefined, scope: string, ctx: ProbeContext): Promise<TokenFetch> {
  let res: HttpResponse;
  try {
    if (credential.identityToken !== undefined) {
      // OAuth2 refresh-token grant, as docker does with an identity token.
      const form = new URLSearchParams({ grant_type: "refresh_token", refresh_token: credential.identityToken, client_id: CLIENT_ID, scope });
      if (service !== undefined) form.set("service", service);
      res = await ctx.http.send({
        method: "POST", url: realm, deadline: ctx.deadline, body: form.toString(),
        headers: { "content-type": "application/x-www-form-urlencoded" },
      }, { readBody: true });
    } else {
      const url = new URL(realm);
      if (service !== undefined) url.searchParams.set("service", service);
      url.searchParams.set("scope", scope);
      url.searchParams.set("client_id", CLIENT_ID);
      const basic = basicAuth(credential);
      res = await ctx.http.send({ method: "GET", url, deadline: ctx.deadline, headers: basic ? { authorization: basic.header } : {} }, { readBody: true });
    }
  } catch (err) {
    return { kind: "failed", reason: `the token service did not answer: ${networkReason(err)}` };
  }
  if (res.status === 401 || res.status === 403) return { kind: "refused", status: res.status };
  if (res.status !== 200) return { kind: "failed", reason: `the token service answered HTTP ${res.status}${statusHint(res.status)}` };
  const token = tokenFromBody(res.body);
  if (token === undefined) return { kind: "failed", reason: "the token service's answer holds no token" };
  return { kind: "token", token };
}

function tokenFromBody(body: string): string | undefined {
  try {
    const parsed: unknown = JSON.parse(body);
    if (typeof parsed !== "object" || parsed === null) return undefined;
    const o = parsed as Record<string, unknown>;
    const token = typeof o.token === "string" && o.token !== "" ? o.token : o.access_token;
    return typeof token === "string" && token !== "" ? token : undefined;
  } catch {
    return undefined;
  }
}

async function upload(endpoint: RegistryEndpoint, repository: string, auth: Auth, ctx: ProbeContext, method: ProbeMethod = "upload"): Promise<ProbeResult> {
  const registry = endpoint.registry;
  const result = (verdict: ProbeResult["verdict"], reason: string): ProbeResult => ({ verdict, method, registry, repository, reason });
  const path = `/v2/${repository}/blobs/uploads/`;
  let res: HttpResponse;
  try {
    res = await ctx.http.send({ method: "POST", url: new URL(path, endpoint.origin), deadline: ctx.deadline, headers: auth ? { authorization: auth.header } : {} });
  } catch (err) {
    return result("Unknown", `POST ${path} failed: ${networkReason(err)}`);
  }
  if (res.status === 202 || res.status === 201) {
    await cancelUpload(endpoint, repository, res, auth, ctx);
    return result("Writable", `POST ${path} answered HTTP ${res.status}: the registry started a blob upload (cancelled at once)`);
  }
  if (res.status === 401 || res.status === 403) {
    return result("ReadOnly", `POST ${path} answered HTTP ${res.status}: the registry refuses uploads with these credentials`);
  }
  return result("Unknown", `POST ${path} answered HTTP ${res.status}${statusHint(res.status)}`);
}

/**
 * Cancels an upload the probe started. It waits for the answer until the deadline; after that the
 * DELETE goes on in the background (up to CANCEL_GRACE_MS), because leaving the upload session in
 * the registry is worse than answering a moment late.
 */
async function cancelUpload(endpoint: RegistryEndpoint, repository: string, res: HttpResponse, auth: Auth, ctx: ProbeContext): Promise<void> {
  if (res.status !== 202) return;
  const location = headerValue(res.headers.location);
  const uuid = headerValue(res.headers["docker-upload-uuid"]);
  let url: URL | undefined;
  try {
    if (location !== undefined) url = new URL(location, `${endpoint.origin}/v2/${repository}/blobs/uploads/`);
    else if (uuid !== undefined) url = new URL(`/v2/${repository}/blobs/uploads/${encodeURIComponent(uuid)}`, endpoint.origin);
  } catch {
    url = undefined;
  }
  const where = { registry: endpoint.registry, repository };
  if (url === undefined) {
    ctx.log.warn(where, "the write-access probe started an upload that names no Location to cancel it at; the registry will expire it");
    return;
  }
  // Credentials go only to the registry itself.
  const sameOrigin = url.origin === new URL(endpoint.origin).origin;
  const headers = auth && sameOrigin ? { authorization: auth.header } : undefined;
  const deadline = Math.max(ctx.deadline, Date.now()) + CANCEL_GRACE_MS;
  const cancel = ctx.http.send({ method: "DELETE", url, deadline, ...(headers ? { headers } : {}) }).then(
    (r) => {
      if (r.status >= 200 && r.status < 300) ctx.log.debug({ ...where, status: r.status }, "probe upload cancelled");
      else ctx.log.warn({ ...where, status: r.status }, "cancelling the probe's upload was refused; the registry will expire it");
    },
    (err: unknown) => { ctx.log.warn({ ...where, reason: networkReason(err) }, "cancelling the probe's upload failed; the registry will expire it"); },
  );
  const remaining = ctx.deadline - Date.now();
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([cancel, new Promise<void>((resolve) => { timer = setTimeout(resolve, Math.max(remaining, 0)); })]);
  clearTimeout(timer);
}

/** `Authorization: Basic` for a username and password; undefined when the credential has none. */
export function basicAuth(credential: RegistryCredential): Auth {
  if (credential.username === undefined || credential.password === undefined) return undefined;
  return { header: `Basic ${Buffer.from(`${credential.username}:${credential.password}`).toString("base64")}` };
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function networkReason(err: unknown): string {
  return err instanceof ProbeNetworkError ? err.message : "the request failed";
}

function statusHint(status: number): string {
  if (status === 404) return " (not found: the repository may not exist and cannot be created by a push here)";
  if (status === 405) return " (method not allowed: the registry takes no pushes here, for example a pull-through cache)";
  if (status === 429) return " (rate limited; it is tried again later)";
  if (status >= 500) return " (a registry error; it is tried again later)";
  return "";
}
