import { pino, type Logger, type LevelWithSilent } from "pino";

export type { Logger } from "pino";

/**
 * Paths pino blanks out. regcred never hands secret objects to the logger; these are the second
 * line of defence, so that a mistake logs "[redacted]" instead of a credential.
 */
export const REDACTED_PATHS = [
  "data", "*.data", "*.*.data",
  "stringData", "*.stringData", "*.*.stringData",
  "password", "*.password", "*.*.password", "auth", "*.auth", "*.*.auth",
  "token", "*.token", "*.*.token", "identitytoken", "*.identitytoken", "*.*.identitytoken",
  "registrytoken", "*.registrytoken", "*.*.registrytoken",
  "authorization", "*.authorization", "*.*.authorization",
  "headers.authorization", "*.headers.authorization", "*.*.headers.authorization",
  "headers.Authorization", "*.headers.Authorization", "*.*.headers.Authorization",
  "request.object", "request.oldObject",
];

export function createLogger(level: LevelWithSilent, destination?: pino.DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    level,
    base: { app: "regcred" },
    redact: { paths: REDACTED_PATHS, censor: "[redacted]" },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  };
  return destination ? pino(options, destination) : pino(options);
}
