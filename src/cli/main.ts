#!/usr/bin/env node
/** The `regcred` executable (package.json "bin"): runs one command line and exits with its code. */
import type { CommandIo } from "./command.js";
import { runCli } from "./run.js";

function processIo(): CommandIo {
  return {
    out: (text) => { process.stdout.write(text); },
    err: (text) => { process.stderr.write(text); },
    stdinIsTty: process.stdin.isTTY,
    readStdin: async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : chunk as Buffer);
      return Buffer.concat(chunks).toString("utf8");
    },
  };
}

function flush(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => { stream.write("", () => { resolve(); }); });
}

async function main(): Promise<void> {
  let stop: () => void = () => undefined;
  const stopped = new Promise<void>((resolve) => { stop = resolve; });
  process.once("SIGINT", () => { stop(); });
  process.once("SIGTERM", () => { stop(); });
  const code = await runCli(process.argv.slice(2), processIo(), stopped);
  await Promise.all([flush(process.stdout), flush(process.stderr)]);
  // Keep-alive sockets of the API and probe clients would hold the process open for a while.
  process.exit(code);
}

void main();
