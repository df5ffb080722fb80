/**
 * kubectl's label selector syntax (`-l`), parsed into a metav1.LabelSelector for an export's
 * `spec.namespaceSelector`: `a=b`, `a==b`, `a!=b`, `a in (x,y)`, `a notin (x)`, `a`, `!a`, joined by
 * commas. Pure.
 */
import type { V1LabelSelector, V1LabelSelectorRequirement } from "@kubernetes/client-node";
import { UsageError } from "./args.js";

const KEY = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const VALUE = /^(|[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)$/;

export function parseLabelSelector(text: string): V1LabelSelector {
  const requirements = splitTopLevel(text.trim());
  if (requirements.length === 0) throw new UsageError("--selector is empty");
  const matchLabels: Record<string, string> = {};
  const matchExpressions: V1LabelSelectorRequirement[] = [];
  for (const raw of requirements) {
    const req = raw.trim();
    let m: RegExpExecArray | null;
    if ((m = /^(\S+?)\s+(in|notin)\s+\((.*)\)$/.exec(req))) {
      const [, key = "", op = "", list = ""] = m;
      const values = list.split(",").map((v) => v.trim());
      checkKey(key);
      if (values.length === 0 || values.some((v) => v === "")) throw new UsageError(`--selector: ${op} needs a list of values, e.g. "${key} ${op} (a,b)"`);
      values.forEach(checkValue);
      matchExpressions.push({ key, operator: op === "in" ? "In" : "NotIn", values });
    } else if ((m = /^([^=!\s]+)\s*!=\s*(\S*)$/.exec(req))) {
      const [, key = "", value = ""] = m;
      checkKey(key);
      checkValue(value);
      matchExpressions.push({ key, operator: "NotIn", values: [value] });
    } else if ((m = /^([^=!\s]+)\s*==?\s*(\S*)$/.exec(req))) {
      const [, key = "", value = ""] = m;
      checkKey(key);
      checkValue(value);
      if (key in matchLabels && matchLabels[key] !== value) throw new UsageError(`--selector: ${key} is given two values`);
      matchLabels[key] = value;
    } else if ((m = /^!\s*(\S+)$/.exec(req))) {
      const key = m[1] ?? "";
      checkKey(key);
      matchExpressions.push({ key, operator: "DoesNotExist" });
    } else if (KEY.test(req)) {
      matchExpressions.push({ key: req, operator: "Exists" });
    } else {
      throw new UsageError(`--selector: cannot read ${JSON.stringify(req.slice(0, 100))}; write it as kubectl -l takes it, e.g. "team=a,env in (prod,staging)"`);
    }
  }
  const selector: V1LabelSelector = {};
  if (Object.keys(matchLabels).length > 0) selector.matchLabels = matchLabels;
  if (matchExpressions.length > 0) selector.matchExpressions = matchExpressions;
  return selector;
}

/** The selector written back in kubectl's syntax, for tables. */
export function formatLabelSelector(selector: V1LabelSelector | undefined): string {
  if (!selector) return "";
  const parts = Object.entries(selector.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const e of selector.matchExpressions ?? []) {
    const values = (e.values ?? []).join(",");
    switch (e.operator) {
      case "In": parts.push(`${e.key} in (${values})`); break;
      case "NotIn": parts.push(`${e.key} notin (${values})`); break;
      case "Exists": parts.push(e.key); break;
      case "DoesNotExist": parts.push(`!${e.key}`); break;
      default: parts.push(`${e.key} ${e.operator} (${values})`);
    }
  }
  return parts.length === 0 ? "<all>" : parts.join(",");
}

// Commas separate requirements, except inside the parentheses of in/notin.
function splitTopLevel(text: string): string[] {
  if (text === "") return [];
  const parts: string[] = [];
  let depth = 0;
  let current = "";
  for (const ch of text) {
    if (ch === "(") depth++;
    if (ch === ")") depth = Math.max(0, depth - 1);
    if (ch === "," && depth === 0) {
      parts.push(current);
      current = "";
    } else {
      current += ch;
    }
  }
  parts.push(current);
  if (parts.some((p) => p.trim() === "")) throw new UsageError("--selector has an empty requirement (two commas in a row?)");
  return parts;
}

function checkKey(key: string): void {
  if (key.length > 317 || !KEY.test(key)) throw new UsageError(`--selector: ${JSON.stringify(key.slice(0, 100))} is not a label key`);
}

function checkValue(value: string): void {
  if (value.length > 63 || !VALUE.test(value)) throw new UsageError(`--selector: ${JSON.stringify(value.slice(0, 100))} is not a label value`);
}
