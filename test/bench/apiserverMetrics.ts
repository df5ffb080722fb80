/**
 * Requests counted by the API server itself: `apiserver_request_total` from its /metrics, read with
 * the admin client certificate of the kubeconfig, before and after a scenario.
 */
import { request, type RequestOptions } from "node:https";
import { setTimeout as sleep } from "node:timers/promises";
import type { KubeConfig } from "@kubernetes/client-node";
import { parseLabels } from "./processes.js";

/** `VERB resource[/subresource]` → requests, e.g. `POST secrets`, `PATCH pullsecretexports/status`. */
export type RequestCounts = Record<string, number>;

/**
 * Requests that are not regcred's or the bench's work: leader-election and API-server identity
 * Leases (renewed every few seconds whatever happens) and non-resource paths (this scrape).
 */
export function isBackground(labels: Record<string, string>): boolean {
  return labels.resource === "leases" || (labels.resource ?? "") === "";
}

export class ApiServerMetrics {
  private options: RequestOptions | undefined;

  constructor(private readonly kc: KubeConfig) {}

  private async requestOptions(): Promise<RequestOptions> {
    if (!this.options) {
      const server = this.kc.getCurrentCluster()?.server;
      if (!server) throw new Error("the kubeconfig has no current cluster");
      const url = new URL("/metrics", server);
      const opts: RequestOptions = { hostname: url.hostname, port: url.port, path: url.pathname, method: "GET" };
      await this.kc.applyToHTTPSOptions(opts);
      this.options = opts;
    }
    return this.options;
  }

  async text(): Promise<string> {
    const opts = await this.requestOptions();
    return await new Promise((resolve, reject) => {
      const req = request(opts, (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => { body += c; });
        res.on("end", () => {
          if (res.statusCode === 200) resolve(body);
          else reject(new Error(`GET /metrics of the API server answered ${res.statusCode ?? "?"}: ${body.slice(0, 300)}`));
        });
      });
      req.on("error", reject);
      req.end();
    });
  }

  /** Every apiserver_request_total series that is not background, summed by verb and resource. */
  async counts(): Promise<RequestCounts> {
    const counts: RequestCounts = {};
    for (const line of (await this.text()).split("\n")) {
      if (!line.startsWith("apiserver_request_total{")) continue;
      const close = line.indexOf("}");
      const labels = parseLabels(line.slice("apiserver_request_total{".length, close));
      if (isBackground(labels)) continue;
      const value = Number(line.slice(close + 1).trim().split(" ")[0]);
      const resource = `${labels.resource ?? ""}${labels.subresource ? `/${labels.subresource}` : ""}`;
      const key = `${labels.verb ?? "?"} ${resource}${labels.dry_run ? " (dry run)" : ""}`;
      counts[key] = (counts[key] ?? 0) + value;
    }
    return counts;
  }

  /**
   * Waits until no counted request has been made for `quietMs` (the controller and its Events have
   * finished), at most `timeoutMs`. Resolves whether it became quiet.
   */
  async waitQuiet(quietMs = 2000, timeoutMs = 60_000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    let last = total(await this.counts());
    let since = Date.now();
    while (Date.now() < deadline) {
      await sleep(500);
      const now = total(await this.counts());
      if (now !== last) {
        last = now;
        since = Date.now();
      } else if (Date.now() - since >= quietMs) {
        return true;
      }
    }
    return false;
  }
}

export function total(counts: RequestCounts): number {
  return Object.values(counts).reduce((a, b) => a + b, 0);
}

/** after − before, without the zero entries. */
export function diff(before: RequestCounts, after: RequestCounts): RequestCounts {
  const out: RequestCounts = {};
  for (const [key, value] of Object.entries(after)) {
    const d = value - (before[key] ?? 0);
    if (d !== 0) out[key] = d;
  }
  return Object.fromEntries(Object.entries(out).sort(([, a], [, b]) => b - a));
}
