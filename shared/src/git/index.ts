export * from './git.js'
export * from './transport.js'
