/** Builds the test control plane binary ahead of the tests (`npx tsx test/harness/build-controlplane.ts`). */
import { controlPlaneBinary } from "./controlPlane.js";

const binary = await controlPlaneBinary();
console.log(`[controlplane] binary: ${binary}`);
