export { buildApp, type AppOptions } from './http/app.js';
export { openRuntime, type Runtime } from './compose.js';
export { loadConfig, type CustosConfig } from './config.js';
export { Storage, type StorageConfig } from './storage/storage.js';
export { fixedClock, systemClock, type Clock } from './domain/clock.js';
