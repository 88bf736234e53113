export * from './image-ref.js'
