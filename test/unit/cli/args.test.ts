import { describe, expect, it } from "vitest";
import { commandHelp, parseCommand, splitCommand, UsageError, wantsHelp, type CommandSpec } from "../../../src/cli/args.js";
import { exportRequestFrom, oneLine } from "../../../src/cli/commands/create.js";
import { parseDuration } from "../../../src/cli/commands/check.js";
import { formatLabelSelector, parseLabelSelector } from "../../../src/cli/labelSelector.js";

const spec: CommandSpec = {
  name: "create",
  summary: "s",
  positionals: ["NAME"],
  globals: ["namespace", "output"],
  options: {
    server: { type: "string", help: "h" },
    "password-stdin": { type: "boolean", help: "h" },
    "to-namespaces": { type: "string", help: "h" },
    selector: { type: "string", short: "l", help: "h" },
    eager: { type: "boolean", help: "h" },
  },
};

describe("splitCommand", () => {
  it("finds the command after global flags and their values", () => {
    expect(splitCommand(["--kubeconfig", "k", "-n", "ns", "list", "-A"])).toEqual({ command: "list", rest: ["--kubeconfig", "k", "-n", "ns", "-A"] });
    expect(splitCommand(["-o", "json", "status", "x"])).toEqual({ command: "status", rest: ["-o", "json", "x"] });
    expect(splitCommand(["-A"])).toEqual({ command: undefined, rest: ["-A"] });
  });
  it("sees --help anywhere before --", () => {
    expect(wantsHelp(["x", "-h"])).toBe(true);
    expect(wantsHelp(["--", "--help"])).toBe(false);
  });
});

describe("parseCommand", () => {
  it("reads globals and the command's own flags", () => {
    const p = parseCommand(spec, ["x", "-n", "ns", "--server", "r.io", "--password-stdin", "-o", "yaml", "--context", "c", "--kubeconfig", "f"]);
    expect(p).toMatchObject({ positionals: ["x"], namespace: "ns", output: "yaml", context: "c", kubeconfig: "f", allNamespaces: false });
    expect(p.values.server).toBe("r.io");
    expect(p.values["password-stdin"]).toBe(true);
  });
  it("defaults to table output", () => {
    expect(parseCommand(spec, ["x"]).output).toBe("table");
  });
  it.each([
    [["x", "--bogus"], "unknown flag --bogus"],
    [["x", "--server"], "--server needs a value"],
    [["x", "-n", "--server", "r"], "needs a value"],
    [["x", "--eager=yes"], "--eager does not take a value"],
    [[], "missing NAME"],
    [["x", "-o", "xml"], "--output must be table, json or yaml"],
    [["x", "-A"], "unknown flag -A"],
  ])("refuses %j", (argv, message) => {
    expect(() => parseCommand(spec, argv)).toThrow(UsageError);
    expect(() => parseCommand(spec, argv)).toThrow(message);
  });
  it("never repeats an unexpected argument or a flag's value in its message", () => {
    const secret = "hunter2-s3cret";
    for (const argv of [["x", secret], ["x", `--pasword=${secret}`], ["x", `--eager=${secret}`]]) {
      try {
        parseCommand(spec, argv);
        expect.unreachable();
      } catch (err) {
        expect((err as Error).message).not.toContain(secret);
      }
    }
  });
  it("refuses -n together with -A", () => {
    const listSpec: CommandSpec = { ...spec, positionals: [], globals: ["namespace", "allNamespaces"] };
    expect(() => parseCommand(listSpec, ["-A", "-n", "x"])).toThrow("either --namespace or --all-namespaces");
  });
});

describe("help", () => {
  it("lists the command's flags and only the globals it takes", () => {
    const text = commandHelp(spec);
    expect(text).toContain("Usage: regcred create NAME [flags]");
    expect(text).toContain("--server");
    expect(text).toContain("-l, --selector");
    expect(text).toContain("--kubeconfig FILE");
    expect(text).not.toContain("--all-namespaces");
  });
});

describe("export flags", () => {
  const parse = (argv: string[]) => exportRequestFrom(parseCommand(spec, ["x", ...argv]), "export");
  it("reads namespaces, a selector and --eager", () => {
    expect(parse(["--to-namespaces", "a, b"])).toEqual({ toNamespaces: ["a", "b"] });
    expect(parse(["--to-namespaces", "*", "--eager"])).toEqual({ toNamespaces: ["*"], eager: true });
    expect(parse(["-l", "team=a"])).toEqual({ namespaceSelector: { matchLabels: { team: "a" } } });
    expect(parse([])).toEqual({});
  });
  it.each([
    [["--to-namespaces", ","], "is empty"],
    [["--to-namespaces", "*,a"], "give \"*\" alone"],
    [["--to-namespaces", "Team_A"], "must be a namespace name"],
  ])("refuses %j", (argv, message) => {
    expect(() => parse(argv)).toThrow(message);
  });
});

describe("label selectors", () => {
  it("parses kubectl's syntax", () => {
    expect(parseLabelSelector("team=a, env in (prod, staging),!legacy,tier!=db,example.com/owner,x==y")).toEqual({
      matchLabels: { team: "a", x: "y" },
      matchExpressions: [
        { key: "env", operator: "In", values: ["prod", "staging"] },
        { key: "legacy", operator: "DoesNotExist" },
        { key: "tier", operator: "NotIn", values: ["db"] },
        { key: "example.com/owner", operator: "Exists" },
      ],
    });
    expect(parseLabelSelector("env notin (dev)")).toEqual({ matchExpressions: [{ key: "env", operator: "NotIn", values: ["dev"] }] });
  });
  it("writes it back", () => {
    expect(formatLabelSelector(parseLabelSelector("team=a,env in (prod,staging),!legacy"))).toBe("team=a,env in (prod,staging),!legacy");
    expect(formatLabelSelector({})).toBe("<all>");
  });
  it.each(["", "a in b", "a=b,,c", "a=b=c", "bad key=x", "a in ()"])("refuses %j", (text) => {
    expect(() => parseLabelSelector(text)).toThrow(UsageError);
  });
});

describe("small parsers", () => {
  it("takes the newline off a password read from stdin or a file, only one", () => {
    expect(oneLine("pw\n")).toBe("pw");
    expect(oneLine("pw\r\n")).toBe("pw");
    expect(oneLine("pw")).toBe("pw");
    expect(oneLine("pw\n\n")).toBe("pw\n");
  });
  it("reads durations", () => {
    expect(parseDuration(undefined)).toBe(15_000);
    expect(parseDuration("20s")).toBe(20_000);
    expect(parseDuration("1500ms")).toBe(1500);
    expect(parseDuration("2m")).toBe(120_000);
    expect(parseDuration("3")).toBe(3000);
    expect(() => parseDuration("fast")).toThrow("--timeout");
    expect(() => parseDuration("10m")).toThrow("between");
  });
});
