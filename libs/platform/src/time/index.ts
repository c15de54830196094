export * from "./clock.js";
export * from "./ttl-cache.js";
export * from "./scheduler-loop.js";
export * from "./backoff.js";
