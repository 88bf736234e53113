export * from './backoff.js'
export * from './deadline.js'
