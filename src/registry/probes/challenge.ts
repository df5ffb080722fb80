/**
 * Parsing `WWW-Authenticate` (RFC 9110 §11.6.1): one or more challenges, each an auth-scheme with
 * either a token68 or comma-separated `name=value` parameters (values are tokens or quoted
 * strings). Registries send `Bearer realm="https://auth.example.com/token",service="registry"` or
 * `Basic realm="Registry"`. Several headers, or several challenges in one header, are both allowed.
 */

export interface Challenge {
  /** Lower-cased, e.g. "bearer", "basic". */
  scheme: string;
  /** Parameter names lower-cased; values unquoted. */
  params: Record<string, string>;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+/;
const TOKEN68 = /^[A-Za-z0-9._~+/-]+=*/;

/** Every challenge in the header value(s); malformed parts are skipped, never thrown on. */
export function parseChallenges(header: string | readonly string[] | undefined): Challenge[] {
  if (header === undefined) return [];
  const values = typeof header === "string" ? [header] : header;
  return values.flatMap(parseOne);
}

/** The first challenge of a scheme (case-insensitive), if any. */
export function findChallenge(challenges: readonly Challenge[], scheme: string): Challenge | undefined {
  const wanted = scheme.toLowerCase();
  return challenges.find((c) => c.scheme === wanted);
}

function parseOne(value: string): Challenge[] {
  const out: Challenge[] = [];
  let rest = value;
  let current: Challenge | undefined;
  for (let guard = 0; guard < 1000; guard++) {
    rest = rest.replace(/^[\s,]+/, "");
    if (rest === "") break;
    const token = TOKEN.exec(rest)?.[0];
    if (token === undefined) {
      // Not something we understand: skip to the next comma.
      const comma = rest.indexOf(",");
      if (comma === -1) break;
      rest = rest.slice(comma + 1);
      continue;
    }
    const after = rest.slice(token.length);
    const param = /^\s*=\s*/.exec(after);
    if (current && param) {
      // name=value inside the current challenge.
      const valueStart = after.slice(param[0].length);
      const parsed = readValue(valueStart);
      current.params[token.toLowerCase()] = parsed.value;
      rest = parsed.rest;
      continue;
    }
    // A new challenge: scheme, then optionally a token68 or the first parameter.
    current = { scheme: token.toLowerCase(), params: {} };
    out.push(current);
    rest = after;
    const space = /^\s+/.exec(rest);
    if (!space) continue;
    const body = rest.slice(space[0].length);
    const t68 = TOKEN68.exec(body)?.[0];
    // A token68 stands alone (then a comma or the end); `name=value` goes on after its "=".
    if (t68 !== undefined && /^\s*(,|$)/.test(body.slice(t68.length))) {
      current.params.token68 = t68;
      rest = body.slice(t68.length);
      continue;
    }
    rest = body;
  }
  return out;
}

function readValue(text: string): { value: string; rest: string } {
  if (text.startsWith('"')) {
    let value = "";
    let i = 1;
    for (; i < text.length; i++) {
      const ch = text.charAt(i);
      if (ch === "\\" && i + 1 < text.length) {
        value += text.charAt(i + 1);
        i++;
      } else if (ch === '"') {
        return { value, rest: text.slice(i + 1) };
      } else {
        value += ch;
      }
    }
    return { value, rest: "" };
  }
  // Leniently up to the next comma or space: some servers leave URLs unquoted.
  const token = /^[^\s,"]*/.exec(text)?.[0] ?? "";
  return { value: token, rest: text.slice(token.length) };
}
