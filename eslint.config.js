// Lint rules, including the layer boundaries from DEVELOPERS.md:
// etcd3 only in src/sync, better-sqlite3 (and SQL) only in src/store.
import tseslint from "typescript-eslint";

const restrict = (names, message) => ({
  "no-restricted-imports": ["error", { paths: names.map((name) => ({ name, message })) }],
});

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
  { files: ["src/**/*.ts"], ignores: ["src/sync/**"], rules: restrict(["etcd3"], "etcd3 belongs in src/sync only") },
  {
    files: ["src/**/*.ts"],
    ignores: ["src/store/**"],
    rules: restrict(["better-sqlite3"], "SQLite belongs in src/store only"),
  },
  {
    files: ["src/tools/**/*.ts", "src/http/**/*.ts"],
    rules: restrict(["etcd3", "better-sqlite3"], "tools and HTTP read through src/store functions"),
  },
  // Tests poke at loosely typed JSON answers; `any` there keeps assertions readable.
  { files: ["test/**/*.ts"], rules: { "@typescript-eslint/no-explicit-any": "off" } },
  { files: ["test/**/*.ts", "bench/**/*.ts", "src/cli.ts", "src/cli/**/*.ts", "src/log.ts"], rules: { "no-console": "off" } },
);
