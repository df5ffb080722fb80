/** Write-access probes of registry credentials: see checker.ts for the entry point. */
export { createAccessChecker, ProbeAccessChecker, readCaFile, type ProbeCheckerOptions } from "./checker.js";
export { createProbeHttp, type ProbeHttp } from "./http.js";
