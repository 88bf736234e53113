export * from './redact.js'
