/**
 * What a query_snapshot statement may be, checked before it runs (in the sandbox process, on its
 * read-only connection). better-sqlite3 has no authorizer callback, so the checks are layered:
 *
 *  1. exactly one statement (better-sqlite3's prepare refuses more), starting with SELECT, WITH or
 *     VALUES: no PRAGMA, ATTACH, DETACH, BEGIN, VACUUM INTO, EXPLAIN, … (SQLite calls ATTACH and
 *     `PRAGMA query_only = 0` "read-only", so `stmt.readonly` alone would let them through);
 *  2. `stmt.readonly` and `stmt.reader`: no write hidden behind WITH;
 *  3. no name of a denied function or virtual table anywhere in the text, as a word, a quoted
 *     identifier or a string (SQLite takes `FROM 'x'` as a table name): load_extension,
 *     fts3_tokenizer, the pragma_* table-valued functions (pragma_database_list shows the file's
 *     path), dbstat and the other virtual-table modules;
 *  4. the statement's compiled program (EXPLAIN, which does not run it): every table or index it
 *     opens must belong to a public table (a view or a subquery cannot hide audit_log), nothing is
 *     opened for writing, and no denied function is called.
 *
 * The connection itself is opened read-only with `query_only`, so a check that missed a write still
 * could not write; time and memory are bounded by the sandbox (query-sandbox.ts).
 */
import type { Db } from "./database.js";

/** A statement the sandbox refuses to run; the message says why, for the agent. */
export class QueryRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = "QueryRefused";
  }
}

const STATEMENT_STARTS = new Set(["SELECT", "WITH", "VALUES"]);
/** Functions no query may call (the table-valued ones are found by module name below). */
const DENIED_FUNCTIONS = new Set(["load_extension", "fts3_tokenizer", "readfile", "writefile", "edit"]);
/** Virtual-table modules a query may use: JSON columns need them. */
const ALLOWED_MODULES = new Set(["json_each", "json_tree"]);

/**
 * The words, quoted identifiers and string literals of `sql`, lowercased, and its first keyword;
 * comments are skipped. A small SQLite tokenizer: enough to see every name a statement can mention.
 */
export function sqlTokens(sql: string): { first: string | null; names: Set<string> } {
  const names = new Set<string>();
  let first: string | null = null;
  let i = 0;
  const n = sql.length;
  const quoted = (close: string, doubled: boolean): string => {
    let out = "";
    i++;
    while (i < n) {
      const c = sql[i] as string;
      if (c === close) {
        if (doubled && sql[i + 1] === close) {
          out += close;
          i += 2;
          continue;
        }
        i++;
        return out;
      }
      out += c;
      i++;
    }
    return out;
  };
  while (i < n) {
    const c = sql[i] as string;
    if (/\s/.test(c)) {
      i++;
    } else if (c === "-" && sql[i + 1] === "-") {
      while (i < n && sql[i] !== "\n") i++;
    } else if (c === "/" && sql[i + 1] === "*") {
      const end = sql.indexOf("*/", i + 2);
      i = end < 0 ? n : end + 2;
    } else if (c === "'") {
      names.add(quoted("'", true).toLowerCase());
      first ??= "";
    } else if (c === '"' || c === "`") {
      names.add(quoted(c, true).toLowerCase());
      first ??= "";
    } else if (c === "[") {
      names.add(quoted("]", false).toLowerCase());
      first ??= "";
    } else if (/[\p{L}\p{N}_$]/u.test(c)) {
      let word = "";
      while (i < n && /[\p{L}\p{N}_$]/u.test(sql[i] as string)) word += sql[i++];
      names.add(word.toLowerCase());
      first ??= word.toUpperCase();
    } else {
      first ??= "";
      i++;
    }
  }
  return { first: first === "" ? null : first, names };
}

interface ExplainRow {
  opcode: string;
  p2: number;
  p3: number;
  p4: string | null;
}

/** Checks a statement against the rules above; `tables` are the names it may read. Prepared once per connection. */
export function createQueryGuard(db: Db, tables: ReadonlySet<string>): (sql: string) => ReturnType<Db["prepare"]> {
  const modules = db
    .prepare<[], { name: string }>("SELECT name FROM pragma_module_list")
    .all()
    .map((m) => m.name.toLowerCase())
    .filter((name) => !ALLOWED_MODULES.has(name));
  // Root page → the table it stores (an index's root page → its table); page 1 is sqlite_schema.
  const owners = new Map<number, string>([[1, "sqlite_schema"]]);
  for (const o of db.prepare<[], { rootpage: number; tbl_name: string }>("SELECT rootpage, tbl_name FROM sqlite_schema WHERE rootpage > 0").all()) {
    owners.set(o.rootpage, o.tbl_name);
  }
  const readable = new Set([...tables, "sqlite_schema"]);

  return (sql) => {
    const { first, names } = sqlTokens(sql);
    if (first === null || !STATEMENT_STARTS.has(first)) {
      throw new QueryRefused(`only SELECT (or WITH … SELECT, VALUES) statements may run, not ${first ?? "this"}`);
    }
    for (const name of names) {
      if (DENIED_FUNCTIONS.has(name) || modules.includes(name) || name.startsWith("pragma_")) {
        throw new QueryRefused(`${name} is not available to query_snapshot`);
      }
    }
    let stmt: ReturnType<Db["prepare"]>;
    try {
      stmt = db.prepare(sql);
    } catch (err) {
      throw new QueryRefused((err as Error).message);
    }
    if (!stmt.readonly || !stmt.reader) throw new QueryRefused("only statements that read and return rows may run");
    const program = db.prepare<[], ExplainRow>(`EXPLAIN ${sql}`).all();
    for (const op of program) {
      if (op.opcode === "OpenWrite" || op.opcode === "VUpdate") throw new QueryRefused("the statement would write");
      if (op.opcode === "OpenRead" || op.opcode === "ReopenIdx") {
        const owner = op.p3 === 0 ? owners.get(op.p2) : undefined;
        if (owner === undefined || !readable.has(owner)) {
          throw new QueryRefused(`table ${owner ?? "(not in the snapshot)"} is not available to query_snapshot`);
        }
      }
      if (/^(Function|PureFunc|AggStep|AggStep1|AggValue|AggInverse|AggFinal)$/.test(op.opcode) && op.p4 !== null) {
        const fn = op.p4.replace(/\(.*$/, "").toLowerCase();
        if (DENIED_FUNCTIONS.has(fn)) throw new QueryRefused(`${fn} is not available to query_snapshot`);
      }
    }
    return stmt;
  };
}
