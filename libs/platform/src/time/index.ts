export * from "./clock.js";
export * from "./ttl-cache.js";
