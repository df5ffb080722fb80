/**
 * `npm run build`: regcred and its CLI as two self-contained ES modules, dist/main.js and
 * dist/cli/main.js, bundled by esbuild with only the code they reach (ADR 0007). The image runs
 * dist/main.js with no node_modules beside it. Type checking is `npm run typecheck`'s job.
 *
 * The bench builds the processes it measures with the same function, so it measures what ships.
 */
import { rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { build, type BuildOptions } from "esbuild";

export const REPO_ROOT = resolve(import.meta.dirname, "../..");

// Bundled CommonJS dependencies call require() for Node's built-in modules and read __dirname; an
// ES module has neither, so each bundle defines them at its top.
const COMMONJS_GLOBALS = [
  'import { createRequire as __regcredCreateRequire } from "node:module";',
  'import { fileURLToPath as __regcredFileURLToPath } from "node:url";',
  'import { dirname as __regcredDirname } from "node:path";',
  "const require = __regcredCreateRequire(import.meta.url);",
  "const __filename = __regcredFileURLToPath(import.meta.url);",
  "const __dirname = __regcredDirname(__filename);",
].join("\n");

/** The options every regcred bundle is built with; `entryPoints` maps output names to sources. */
export function bundleOptions(entryPoints: Record<string, string>, outdir: string): BuildOptions {
  return {
    entryPoints,
    outdir,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node24",
    // Whitespace and syntax only: function names stay as written, so stack traces stay readable.
    minifyWhitespace: true,
    minifySyntax: true,
    // The bundled packages' licences, in one file beside each bundle.
    legalComments: "linked",
    banner: { js: COMMONJS_GLOBALS },
    // Source maps for `node --enable-source-maps` and profiles; not loaded unless asked for.
    sourcemap: "linked",
    logLevel: "warning",
  };
}

export async function buildDist(outdir = join(REPO_ROOT, "dist")): Promise<void> {
  rmSync(outdir, { recursive: true, force: true });
  await build(bundleOptions({ main: join(REPO_ROOT, "src/main.ts"), "cli/main": join(REPO_ROOT, "src/cli/main.ts") }, outdir));
}

if (process.argv[1] && import.meta.filename === resolve(process.argv[1])) {
  await buildDist();
  console.log("built dist/main.js and dist/cli/main.js");
}
