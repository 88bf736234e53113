export * from './client.js'
export * from './transport.js'
export * from './pulls.js'
export * from './image-deploy.js'
