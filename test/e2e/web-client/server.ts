// SPDX-License-Identifier: Apache-2.0
/**
 * Serves the Hydrogen web client on 127.0.0.1 for the web-client test: main.ts bundled by esbuild,
 * Hydrogen's assets (theme, fonts, worker) and service worker, @matrix-org/olm under /olm/ (.wasm
 * as application/wasm), and config.json with the given homeserver as the default one.
 */
import { readFile } from "node:fs/promises";
import { createServer } from "node:http";
import { dirname, extname, join, normalize, sep } from "node:path";
import { build } from "esbuild";

const ROOT = join(__dirname, "..", "..", "..");
const HYDROGEN = join(ROOT, "node_modules", "hydrogen-view-sdk");
const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".wasm": "application/wasm",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".woff": "font/woff",
  ".woff2": "font/woff2",
};
/** URL prefix → folder served under it. */
const FOLDERS: Record<string, string> = {
  "/assets/": join(HYDROGEN, "asset-build", "assets"),
  "/olm/": dirname(require.resolve("@matrix-org/olm/package.json")),
};
const INDEX = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>Hydrogen</title>
    <link rel="stylesheet" href="/assets/theme-element-light.css" />
  </head>
  <body class="hydrogen"><script type="module" src="/main.js"></script></body>
</html>
`;

export interface WebClient {
  url: string;
  /** How long the esbuild bundle took. */
  bundleMs: number;
  close(): Promise<void>;
}

/** Bundles main.ts (in memory) and serves the client; `homeserverUrl` becomes config.json's default. */
export async function serveWebClient(homeserverUrl: string): Promise<WebClient> {
  const started = Date.now();
  const bundle = await build({
    entryPoints: [join(__dirname, "main.ts")],
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2020",
    write: false,
    // olm.js's Node branch; in the browser Hydrogen loads /olm/olm.js itself.
    external: ["fs", "path", "crypto"],
    logLevel: "silent",
  });
  const bundleMs = Date.now() - started;
  const config = JSON.parse(await readFile(join(__dirname, "config.json"), "utf8")) as object;
  const files: Record<string, string | Uint8Array> = {
    "/": INDEX,
    "/index.html": INDEX,
    "/main.js": bundle.outputFiles[0]!.contents,
    "/config.json": JSON.stringify({ ...config, defaultHomeServer: homeserverUrl }),
    "/sw.js": await readFile(join(HYDROGEN, "lib-build", "sw.js")),
  };
  const server = createServer((req, res) => {
    void (async () => {
      const path = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
      let body = files[path];
      const prefix = Object.keys(FOLDERS).find((p) => path.startsWith(p));
      if (body === undefined && prefix !== undefined) {
        const base = FOLDERS[prefix]!;
        const file = normalize(join(base, path.slice(prefix.length)));
        if (file.startsWith(base + sep)) body = await readFile(file).catch(() => undefined);
      }
      if (body === undefined) {
        res.writeHead(404).end();
        return;
      }
      const type = TYPES[path === "/" ? ".html" : extname(path)] ?? "application/octet-stream";
      res.writeHead(200, { "content-type": type, "cache-control": "no-store" }).end(body);
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    bundleMs,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
