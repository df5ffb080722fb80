/** `regcred ui`: the console on 127.0.0.1, acting with the user's kubeconfig. */
import { startConsole } from "../../ui/server.js";
import { EXIT, stringValue, UsageError, type ParsedCommand } from "../args.js";
import type { Command, CommandContext } from "../command.js";

export const ui: Command = {
  name: "ui",
  summary: "serve the console (Secrets list, Create secret) on 127.0.0.1 and print its URL",
  positionals: [],
  globals: [],
  options: {
    port: { type: "string", value: "PORT", help: "port on 127.0.0.1 (default: a free one)" },
    verbose: { type: "boolean", short: "v", help: "print one line per request" },
  },
  details: `The page acts with your kubeconfig's credentials, like the other commands. It listens on
127.0.0.1 only, and the URL carries a token made for this run: other sites in your browser cannot
use it. Stop it with Ctrl-C.`,

  async run(ctx: CommandContext, args: ParsedCommand): Promise<number> {
    const portText = stringValue(args.values.port);
    const port = portText === undefined ? 0 : Number(portText);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError("ui: --port must be a number from 0 to 65535");
    const conn = ctx.connect();
    const kc = conn.clients.kc;
    const console = await startConsole({
      clients: conn.clients,
      identity: { server: conn.server, context: kc.getCurrentContext(), user: kc.getCurrentUser()?.name ?? "", namespace: conn.defaultNamespace },
      port,
      ...(args.values.verbose === true ? { log: (line: string) => { ctx.io.err(`${line}\n`); } } : {}),
    });
    ctx.io.out(`regcred console: ${console.url}\n`);
    ctx.io.err(`Acting as ${kc.getCurrentUser()?.name ?? "?"} on ${conn.server}. Ctrl-C stops it.\n`);
    await ctx.stopped;
    await console.close();
    return EXIT.ok;
  },
};
