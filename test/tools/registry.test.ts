/**
 * The tool registry (src/tools/index.ts), in the style of grafana/mcp-grafana's annotation test:
 * whatever tools exist, each one is fully described and strictly read-only, as a client sees it in
 * tools/list, and each one has its own file of fast tests here. Nothing counts the tools: adding
 * one needs no change in this file.
 */
import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ALL_TOOLS, TOOL_NAMES } from "../../src/tools/index.js";
import { sharedToolHarness } from "../support/tool-harness.js";

const harness = sharedToolHarness();

/** Verbs a read-only tool's name never contains (as one of its words). */
const MUTATING_VERBS = ["create", "delete", "alter", "update", "put", "write", "drain", "flush", "remove", "set", "reset", "commit"];

/**
 * The structural rule for descriptions (issue 13 rewrites their words): one to three sentences
 * of 40 to 400 characters that say when to use the tool ("Use …" or "… when …").
 */
function descriptionProblems(description: string | undefined): string[] {
  const text = description ?? "";
  const problems: string[] = [];
  if (text.length < 40) problems.push(`too short (${text.length} < 40 characters)`);
  if (text.length > 400) problems.push(`too long (${text.length} > 400 characters: tools/list costs agents tokens)`);
  if (!/\b(use|when)\b/i.test(text)) problems.push('does not say when to use it ("Use …" / "… when …")');
  if (text.split(/[.!?](?:\s|$)/).filter((s) => s.trim() !== "").length > 3) problems.push("more than three sentences");
  return problems;
}

describe("tool registry", () => {
  it("has unique snake_case names and only read-only (observe, query) tools", () => {
    expect(TOOL_NAMES.length).toBeGreaterThan(0);
    expect(new Set(TOOL_NAMES).size).toBe(TOOL_NAMES.length);
    for (const tool of ALL_TOOLS) {
      expect(tool.name).toMatch(/^[a-z]+(?:_[a-z]+)*$/);
      expect(tool.name).not.toMatch(/create|delete|alter|update|put|write|drain|flush/);
      expect(tool.name.split("_").filter((word) => MUTATING_VERBS.includes(word)), tool.name).toEqual([]);
      // Read-only sets only: observe, or query (query_snapshot's read-only SQL, granted on its own).
      expect(["observe", "query"], tool.name).toContain(tool.scope);
    }
  });

  it("lists every registered tool in tools/list, and nothing else", () => {
    expect(harness().listed.map((t) => t.name)).toEqual([...TOOL_NAMES]);
  });

  it.each(ALL_TOOLS.map((t) => [t.name]))("%s: title, the four annotations, schemas and a usable description", (name) => {
    const tool = harness().listed.find((t) => t.name === name);
    // A title is a short label for people (a UI shows it), not a sentence.
    expect(tool?.title?.trim()).toBeTruthy();
    expect(tool?.title).not.toBe(name);
    expect(tool?.title?.length).toBeLessThanOrEqual(40);
    expect(tool?.title).not.toMatch(/[.;]/);
    // The title is listed once, at the top level (no copy in annotations: tools/list stays small).
    expect(tool?.annotations).toEqual({
      readOnlyHint: true,
      destructiveHint: false,
      idempotentHint: true,
      openWorldHint: false,
    });
    expect(tool?.outputSchema?.type).toBe("object");
    expect(tool?.outputSchema?.properties).toHaveProperty("freshness");
    expect(tool?.inputSchema.additionalProperties).toBe(false);
    for (const [input, schema] of Object.entries(tool?.inputSchema.properties ?? {})) {
      expect((schema as { description?: string }).description, `${name}.${input}`).toBeTruthy();
    }
    expect(descriptionProblems(tool?.description), tool?.description).toEqual([]);
  });

  it.each(ALL_TOOLS.map((t) => [t.name, t.name.replaceAll("_", "-")]))(
    "%s has its own file of fast tests (test/tools/%s.test.ts)",
    (_name, file) => {
      expect(existsSync(new URL(`./${file}.test.ts`, import.meta.url))).toBe(true);
    },
  );

  it("the description rule itself rejects what it should", () => {
    expect(descriptionProblems("List topics")).toHaveLength(2);
    expect(descriptionProblems("List topics and partition counts. Use to find topic names.")).toEqual([]);
    expect(descriptionProblems("A. B. C. D. Use it.")).toContain("more than three sentences");
  });
});
