import { createServer, type Server } from "node:http";
import type { Metrics } from "../observability/metrics.js";

/** Plain HTTP, GET /metrics only: the Prometheus text format of regcred's registry. */
export function metricsServer(metrics: Metrics): Server {
  return createServer((req, res) => {
    if (req.method === "GET" && req.url === "/metrics") {
      void metrics.registry.metrics().then((text) => {
        res.writeHead(200, { "content-type": metrics.registry.contentType });
        res.end(text);
      });
      return;
    }
    res.writeHead(404, { "content-type": "text/plain" });
    res.end("regcred serves GET /metrics here\n");
  });
}
