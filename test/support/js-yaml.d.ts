/**
 * The part of js-yaml 4 the chart tests use (the package ships no types; it is a dev dependency,
 * already installed as a dependency of eslint).
 */
declare module "js-yaml" {
  /** Parses every document of a multi-document YAML stream (`---` separated). */
  export function loadAll(text: string): unknown[];
  /** Parses one YAML document. */
  export function load(text: string): unknown;
}
