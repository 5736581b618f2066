/**
 * The built-in web view at /ui: static files (src/http/ui, copied into dist/http/ui by `npm run
 * build`) and uPlot from the uplot package, read once at start and served from memory. The page and
 * its assets need no token (they hold no data); the page reads everything from /api/v1 with the
 * bearer token the user types, kept in the tab's sessionStorage. Strict headers: a CSP that allows
 * only this origin's scripts, styles and fetches (no inline script, no eval), no framing, no
 * referrer, no MIME sniffing. The Host/Origin guard applies as on every other route.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { Router, type NextFunction, type Request, type Response } from "express";

/** Path → file and content type. */
interface Asset {
  body: Buffer;
  type: string;
}

export const UI_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

const HEADERS: Record<string, string> = {
  "Content-Security-Policy": UI_CSP,
  "X-Content-Type-Options": "nosniff",
  "X-Frame-Options": "DENY",
  "Referrer-Policy": "no-referrer",
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Resource-Policy": "same-origin",
  // Small files, read at start: revalidation is cheap, and a new version is seen at once.
  "Cache-Control": "no-cache",
};

function loadAssets(): Map<string, Asset> {
  const uiDir = (name: string): string => fileURLToPath(new URL(`./ui/${name}`, import.meta.url));
  const uplot = (name: string): string => createRequire(import.meta.url).resolve(`uplot/dist/${name}`);
  const files: [string, string, string][] = [
    ["/", uiDir("index.html"), "text/html; charset=utf-8"],
    ["/app.js", uiDir("app.js"), "text/javascript; charset=utf-8"],
    ["/style.css", uiDir("style.css"), "text/css; charset=utf-8"],
    ["/vendor/uPlot.iife.min.js", uplot("uPlot.iife.min.js"), "text/javascript; charset=utf-8"],
    ["/vendor/uPlot.min.css", uplot("uPlot.min.css"), "text/css; charset=utf-8"],
  ];
  return new Map(files.map(([path, file, type]) => [path, { body: readFileSync(file), type }]));
}

/**
 * The /ui router (mount it behind the Host/Origin guard). Throws at start when a file is missing
 * (a build that did not copy src/http/ui), rather than serving a broken page later.
 */
export function createWebUi(): Router {
  const assets = loadAssets();
  const router = Router({ strict: true });
  router.get("/", (req: Request, res: Response, next: NextFunction) => {
    // "/ui" → "/ui/", so the page's relative URLs (app.js, ../api/v1) resolve under /ui/.
    if (!req.originalUrl.split("?")[0]?.endsWith("/")) return res.redirect(301, `${req.baseUrl}/`);
    next();
  });
  router.get(/.*/, (req: Request, res: Response) => {
    const asset = assets.get(req.path);
    res.set(HEADERS);
    if (asset === undefined) {
      res.status(404).type("text/plain").send("not found\n");
      return;
    }
    res.type(asset.type).send(asset.body);
  });
  return router;
}
