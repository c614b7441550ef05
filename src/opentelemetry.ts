// `openai-rx/opentelemetry`: the OpenTelemetry recorder, an entry of its own because @opentelemetry/api is an
// optional peer dependency: `openai-rx` itself must load without it. The `Telemetry` types come from `openai-rx`.
export { openTelemetry, TELEMETRY_SCOPE, type OpenTelemetryConfig } from './telemetry/openTelemetry.js';
