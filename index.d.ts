// Types of the native addon index.js loads: declared in src/model/addon-api.ts, which the
// TypeScript API wraps, and compiled with it.
export * from './dist/src/model/addon-api'
