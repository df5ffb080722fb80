/**
 * Builds the test control plane binary ahead of the tests, so CI shows the build in its own step and the
 * cache (${XDG_CACHE_HOME:-~/.cache}/regcred/controlplane-<hash>/) is reused: `npx tsx test/harness/build-controlplane.ts`.
 */
import { controlPlaneBinary } from "./controlPlane.js";

try {
  const binary = await controlPlaneBinary();
  console.log(`[controlplane] binary: ${binary}`);
} catch (err) {
  console.error(err instanceof Error ? err.message : String(err));
  process.exitCode = 1;
}
