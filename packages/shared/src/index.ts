export * from './platforms.js';
export * from './errors.js';
export * from './privacy-catalog.js';
export * from './inventory.js';
export * from './device-auth.js';
export * from './roles.js';
export * from './api-schemas.js';
export * from './transparency.js';
