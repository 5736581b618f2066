/**
 * The schema descriptions (kafscale://schema, query_snapshot's readable tables) against the live
 * schema and docs/SCHEMA.md: a public table, view or column without a one-line meaning fails here,
 * and so does a description of something that no longer exists, or a column the docs do not name.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { createStore } from "../../src/store/index.js";
import { isInternalTable, PRIVATE_TABLES, SCHEMA_DOCS } from "../../src/store/schema-docs.js";
import { schemaText } from "../../src/tools/resources.js";
import { useCleanups } from "../support/harness.js";

const { openStore } = useCleanups();

describe("schema descriptions", () => {
  const store = (): ReturnType<typeof createStore> => openStore();

  it("describe every public table, view and column of the live schema, and nothing else", () => {
    const relations = store().schema();
    const live = new Map(relations.map((r) => [r.name, r.columns.map((c) => c.name)]));
    const undescribed = relations.flatMap((r) => [
      ...(r.description === "" ? [r.name] : []),
      ...r.columns.filter((c) => c.description === "").map((c) => `${r.name}.${c.name}`),
    ]);
    expect(undescribed).toEqual([]);
    const stale = Object.entries(SCHEMA_DOCS).flatMap(([name, doc]) =>
      live.has(name) ? Object.keys(doc.columns).filter((c) => !live.get(name)?.includes(c)).map((c) => `${name}.${c}`) : [name],
    );
    expect(stale).toEqual([]);
    expect(relations.map((r) => r.name)).not.toContain("audit_log");
    expect(relations.every((r) => !isInternalTable(r.name) && !PRIVATE_TABLES.includes(r.name))).toBe(true);
  });

  it("agree with docs/SCHEMA.md: every public table, view and column is named there", () => {
    const doc = readFileSync(new URL("../../docs/SCHEMA.md", import.meta.url), "utf8");
    const missing = store()
      .schema()
      .flatMap((r) => [r.name, ...r.columns.map((c) => c.name)].filter((name) => !doc.includes(`\`${name}\``)).map((n) => `${r.name}: ${n}`));
    expect(missing).toEqual([]);
  });

  it("render as the kafscale://schema text, one line per column", () => {
    const text = schemaText(store().schema());
    expect(text).toContain("## view v_partition_lag: every committed (group, topic, partition); lag counts only a usable commit");
    expect(text).toContain("- lag ANY: max(0, end_offset - committed_offset)");
    expect(text).toContain("- name TEXT (key): topic name");
    expect(text).not.toContain("audit_log");
    // Small enough for an agent to read before writing a query.
    expect(text.length).toBeLessThan(20_000);
  });
});
