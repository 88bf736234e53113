export * from './backoff.js'
