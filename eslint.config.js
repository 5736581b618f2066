// Lint rules, including the layer graph of docs/ARCHITECTURE.md:
//   kafscale ← store ← sync;  store ← tools ← audit ← http;  service.ts and cli/ wire them.
// kafscale/ (the domain) imports nothing else from src/ and does no I/O; etcd3 stays in src/sync,
// better-sqlite3 (and SQL) in src/store; nothing below service.ts imports http/ or cli/.
// The SQLite binding is loaded in one place, src/store/sqlite-driver.ts (12 on Node 20, 13 on Node >= 22).
import tseslint from "typescript-eslint";

const LAYERS = ["kafscale", "store", "sync", "tools", "audit", "http", "demo", "cli"];
const WIRING = ["**/service.js", "**/cli.js"];

/** A no-restricted-imports rule: the folders a layer may not import, plus extra module names. */
const layerRule = (forbiddenFolders, { modules = [], patterns = [], message }) => ({
  "no-restricted-imports": [
    "error",
    {
      paths: modules.map((name) => ({ name, message })),
      patterns: [
        ...forbiddenFolders.map((folder) => ({ group: [`**/${folder}/*`], message })),
        ...patterns.map((group) => ({ group: [group], message })),
      ],
    },
  ],
});
const except = (...allowed) => LAYERS.filter((layer) => !allowed.includes(layer));
const IO_MODULES = ["etcd3", "better-sqlite3", "better-sqlite3-napi", "express", "node:fs", "node:net", "node:http", "node:child_process", "fs", "http"];

/** Per layer: the folders it may not import, the packages it may not use, and why (the message lint shows). */
const LAYER_RULES = [
  { layer: "kafscale", forbidden: except("kafscale"), modules: IO_MODULES, patterns: ["../*", ...WIRING],
    message: "src/kafscale is the pure domain: no I/O, no imports from the rest of src/" },
  { layer: "store", forbidden: except("kafscale", "store"), modules: ["etcd3", "express"],
    message: "src/store imports only the domain (src/kafscale)" },
  { layer: "sync", forbidden: except("kafscale", "store", "sync"), modules: ["better-sqlite3", "better-sqlite3-napi", "express"],
    message: "src/sync reads etcd and brokers into the store; it does not know tools, HTTP or the CLI" },
  { layer: "tools", forbidden: except("kafscale", "store", "tools"), modules: ["etcd3", "better-sqlite3", "better-sqlite3-napi", "express"],
    message: "tools read through src/store functions; they know nothing of etcd, SQL or HTTP" },
  { layer: "audit", forbidden: except("kafscale", "store", "tools", "audit"), modules: ["etcd3", "better-sqlite3", "better-sqlite3-napi", "express"],
    message: "src/audit records tool calls for every transport; it does not know HTTP or sync" },
  { layer: "http", forbidden: ["sync", "demo", "cli"], modules: ["etcd3", "better-sqlite3", "better-sqlite3-napi"],
    message: "HTTP serves tools and the store; it never reads etcd or SQLite itself" },
  { layer: "demo", forbidden: except("kafscale", "store", "demo"), modules: ["etcd3", "better-sqlite3", "better-sqlite3-napi"],
    message: "the demo data source writes into the store, like src/sync" },
];

export default tseslint.config(
  { ignores: ["dist/**", "node_modules/**", "coverage/**", "charts/**"] },
  ...tseslint.configs.recommended,
  {
    files: ["**/*.ts"],
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "no-console": "error",
      eqeqeq: ["error", "always"],
    },
  },
  ...LAYER_RULES.map(({ layer, forbidden, modules, patterns = WIRING, message }) => ({
    files: [`src/${layer}/**/*.ts`],
    rules: layerRule(forbidden, { modules, patterns, message }),
  })),
  {
    files: ["src/config.ts", "src/log.ts", "src/duration.ts", "src/backoff.ts"],
    rules: layerRule(LAYERS, { patterns: WIRING, message: "shared leaf modules import no layer" }),
  },
  {
    files: ["bench/**/*.ts"],
    rules: layerRule([], {
      modules: ["cockatiel"],
      patterns: ["**/test/**", "**/test/*"],
      message: "bench/ stands alone: no test/ helpers, no undeclared transitive dependencies",
    }),
  },
  {
    // Everything else gets `Database` from the driver module; type-only imports of the typings are fine.
    files: ["**/*.ts"],
    ignores: ["src/store/sqlite-driver.ts"],
    rules: {
      "@typescript-eslint/no-restricted-imports": [
        "error",
        {
          paths: ["better-sqlite3", "better-sqlite3-napi"].map((name) => ({
            name,
            allowTypeImports: true,
            message: "load SQLite through src/store/sqlite-driver.ts (it picks the binding for this Node.js)",
          })),
        },
      ],
    },
  },
  // Tests poke at loosely typed JSON answers; `any` there keeps assertions readable.
  {
    files: ["test/**/*.ts"],
    rules: {
      "@typescript-eslint/no-explicit-any": "off",
      // vi.waitFor's default deadline (1 s) fails under load: every wait names one (test/support/conditions.ts).
      "no-restricted-syntax": [
        "error",
        {
          selector: "CallExpression[callee.object.name='vi'][callee.property.name=/^wait(For|Until)$/][arguments.length<2]",
          message: "pass a deadline (UNTIL from test/support/conditions.ts, or { timeout }): the 1 s default flakes on a busy machine",
        },
        {
          selector: "CallExpression[callee.object.name='expect'][callee.property.name='poll'][arguments.length<2]",
          message: "pass a deadline (UNTIL from test/support/conditions.ts, or { timeout }): expect.poll's 1 s default flakes on a busy machine",
        },
      ],
    },
  },
  { files: ["test/**/*.ts", "bench/**/*.ts", "src/cli.ts", "src/cli/**/*.ts", "src/log.ts"], rules: { "no-console": "off" } },
);
