export * from './path.js'
export * from './edit.js'
