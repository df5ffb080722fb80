import { describe, it, expect } from "vitest";
import type { V1LabelSelector } from "@kubernetes/client-node";
import { labelSelectorMatches } from "../../src/admission/selector.js";

const labels = { env: "prod", tier: "web", team: "a" };

describe("labelSelectorMatches", () => {
  it("an empty selector matches everything, even no labels", () => {
    expect(labelSelectorMatches({}, labels)).toBe(true);
    expect(labelSelectorMatches({}, {})).toBe(true);
    expect(labelSelectorMatches({ matchLabels: {}, matchExpressions: [] }, {})).toBe(true);
  });

  it("matchLabels: every entry must be equal", () => {
    expect(labelSelectorMatches({ matchLabels: { env: "prod" } }, labels)).toBe(true);
    expect(labelSelectorMatches({ matchLabels: { env: "prod", tier: "web" } }, labels)).toBe(true);
    expect(labelSelectorMatches({ matchLabels: { env: "prod", tier: "api" } }, labels)).toBe(false);
    expect(labelSelectorMatches({ matchLabels: { region: "eu" } }, labels)).toBe(false);
  });

  it("matchLabels: an empty value matches only a label with an empty value", () => {
    expect(labelSelectorMatches({ matchLabels: { flag: "" } }, { flag: "" })).toBe(true);
    expect(labelSelectorMatches({ matchLabels: { flag: "" } }, {})).toBe(false);
  });

  const expr = (operator: string, key: string, values?: string[]): V1LabelSelector =>
    ({ matchExpressions: [{ key, operator, ...(values ? { values } : {}) }] });

  it.each([
    ["In", "env", ["prod", "staging"], true],
    ["In", "env", ["dev"], false],
    ["In", "region", ["eu"], false],
    ["NotIn", "env", ["dev"], true],
    ["NotIn", "env", ["prod"], false],
    ["NotIn", "region", ["eu"], true],
    ["Exists", "tier", undefined, true],
    ["Exists", "region", undefined, false],
    ["DoesNotExist", "region", undefined, true],
    ["DoesNotExist", "tier", undefined, false],
  ] as const)("%s %s %j → %s", (operator, key, values, expected) => {
    expect(labelSelectorMatches(expr(operator, key, values ? [...values] : undefined), labels)).toBe(expected);
  });

  it("In does not match an absent key whose values include the empty string", () => {
    expect(labelSelectorMatches(expr("In", "region", [""]), labels)).toBe(false);
  });

  it("an unknown operator matches nothing rather than everything", () => {
    expect(labelSelectorMatches(expr("Equals", "env", ["prod"]), labels)).toBe(false);
  });

  it("matchLabels AND matchExpressions must all hold", () => {
    const sel: V1LabelSelector = { matchLabels: { env: "prod" }, matchExpressions: [{ key: "tier", operator: "In", values: ["web"] }, { key: "team", operator: "NotIn", values: ["b"] }] };
    expect(labelSelectorMatches(sel, labels)).toBe(true);
    expect(labelSelectorMatches(sel, { ...labels, team: "b" })).toBe(false);
    expect(labelSelectorMatches(sel, { ...labels, env: "dev" })).toBe(false);
  });

  it("does not treat inherited object properties as labels", () => {
    expect(labelSelectorMatches(expr("Exists", "toString"), {})).toBe(false);
    expect(labelSelectorMatches(expr("DoesNotExist", "constructor"), {})).toBe(true);
  });
});
