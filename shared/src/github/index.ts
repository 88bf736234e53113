export * from './client.js'
export * from './transport.js'
export * from './pulls.js'
