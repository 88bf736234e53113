export * from './load.js'
export * from './emit.js'
