/** The `regcred` CLI as a user runs it: a separate process, from the sources (node --import tsx). */
import { spawn } from "node:child_process";
import { resolve } from "node:path";

const ROOT = resolve(import.meta.dirname, "../..");

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `regcred ARGS` (and `--kubeconfig FILE` when given). KUBECONFIG points nowhere, so the CLI
 * sees only the kubeconfig it is handed; NO_COLOR keeps the output plain.
 */
export function runCli(args: string[], options: { kubeconfig?: string; stdin?: string } = {}): Promise<CliRun> {
  const argv = [...args, ...(options.kubeconfig === undefined ? [] : ["--kubeconfig", options.kubeconfig])];
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", "src/cli/main.ts", ...argv], {
      cwd: ROOT,
      env: { ...process.env, KUBECONFIG: "/nonexistent", NO_COLOR: "1" },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on("data", (d: Buffer) => { stderr += d.toString(); });
    child.on("error", reject);
    child.on("close", (code) => { resolvePromise({ code: code ?? -1, stdout, stderr }); });
    child.stdin.end(options.stdin ?? "");
  });
}
