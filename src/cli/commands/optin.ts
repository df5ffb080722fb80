/** `regcred optin NS` / `regcred optout NS`: the namespace's side of consent. */
import { EXIT, validateNamespaceName, type ParsedCommand } from "../args.js";
import type { Command, CommandContext } from "../command.js";
import { setOptIn } from "../operations.js";
import { renderStructured } from "../output.js";

function optCommand(optIn: boolean): Command {
  return {
    name: optIn ? "optin" : "optout",
    summary: optIn
      ? "opt a namespace in: its pods get the exported credentials they need (annotation regcred.dev/inject=true)"
      : "opt a namespace out: regcred gives it nothing and revokes its copies (annotation regcred.dev/inject=false)",
    positionals: ["NAMESPACE"],
    globals: ["output"],
    options: {},
    details: optIn
      ? "Example:\n  regcred optin team-a"
      : "\"false\" also opts the namespace out when regcred runs in allNamespaces mode.\n\nExample:\n  regcred optout team-a",
    async run(ctx: CommandContext, args: ParsedCommand): Promise<number> {
      const namespace = args.positionals[0] ?? "";
      validateNamespaceName("NAMESPACE", namespace);
      const conn = ctx.connect();
      const result = await setOptIn(conn.clients, namespace, optIn);
      if (args.output === "table") for (const line of result.done) ctx.io.out(`${line}\n`);
      else ctx.io.out(renderStructured({ namespace, optedIn: optIn, done: result.done }, args.output));
      return EXIT.ok;
    },
  };
}

export const optin = optCommand(true);
export const optout = optCommand(false);
