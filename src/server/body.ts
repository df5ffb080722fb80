import type { IncomingMessage } from "node:http";

export type JsonBody = { ok: true; value: unknown } | { ok: false; status: 400 | 413 | 415; message: string };

/**
 * Reads a request body of at most `limit` bytes as JSON. The API server sends every AdmissionReview
 * as uncompressed UTF-8 JSON, whatever content type it names, so this is all a webhook needs:
 * body-parser's content-type, charset and decompression handling cost more per admission than the
 * webhook's own logic (docs/adr/0008-admission-serving-path.md). Never rejects.
 */
export function readJsonBody(req: IncomingMessage, limit: number): Promise<JsonBody> {
  const tooLarge: JsonBody = { ok: false, status: 413, message: `request body is larger than ${limit} bytes` };
  const encoding = req.headers["content-encoding"];
  if (encoding !== undefined && encoding.toLowerCase() !== "identity") {
    req.resume();
    return Promise.resolve({ ok: false, status: 415, message: `content-encoding ${encoding} is not accepted; send the AdmissionReview uncompressed` });
  }
  const declared = Number(req.headers["content-length"]);
  if (declared > limit) {
    req.resume();
    return Promise.resolve(tooLarge);
  }
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      // Past the limit the rest is read and dropped, so memory stays bounded and the answer can still go out.
      if (size <= limit) chunks.push(chunk);
    });
    req.on("error", () => { resolve({ ok: false, status: 400, message: "the request body could not be read" }); });
    req.on("end", () => {
      if (size > limit) {
        resolve(tooLarge);
        return;
      }
      const text = chunks.length === 1 ? (chunks[0] as Buffer).toString("utf8") : Buffer.concat(chunks, size).toString("utf8");
      try {
        resolve({ ok: true, value: JSON.parse(text) as unknown });
      } catch {
        resolve({ ok: false, status: 400, message: "request body is not valid JSON; send an admission.k8s.io/v1 AdmissionReview" });
      }
    });
  });
}
