import { helpText, loadSettings, SettingsError } from "./config/settings.js";
import { loadKubeConfig } from "./cluster/kube.js";
import { createLogger } from "./observability/logger.js";
import { describeError } from "./observability/errors.js";
import { startRegcred, StartupError } from "./runtime.js";

/** The container's entry point: `node dist/main.js [options]`. */
async function main(argv: string[]): Promise<number> {
  if (argv.includes("--help") || argv.includes("-h")) {
    process.stdout.write(`${helpText()}\n`);
    return 0;
  }
  let settings;
  try {
    settings = loadSettings(argv, process.env);
  } catch (err) {
    if (err instanceof SettingsError || (err as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
      process.stderr.write(`regcred: ${(err as Error).message}\nRun with --help to see every option.\n`);
      return 2;
    }
    throw err;
  }
  const log = createLogger(settings.logLevel);
  let regcred;
  try {
    regcred = await startRegcred({ settings, kc: loadKubeConfig(), log });
  } catch (err) {
    log.fatal({ error: err instanceof StartupError ? err.message : describeError(err) }, "regcred could not start");
    return 1;
  }
  const running = regcred;
  await new Promise<void>((resolve) => {
    const shutdown = (signal: string): void => {
      log.info({ signal }, "shutting down");
      void running.stop().finally(resolve);
    };
    process.once("SIGTERM", () => { shutdown("SIGTERM"); });
    process.once("SIGINT", () => { shutdown("SIGINT"); });
  });
  return 0;
}

main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (err: unknown) => {
  process.stderr.write(`regcred: ${describeError(err)}\n`);
  process.exitCode = 1;
});
