export * from './image-ref.js'
export * from './image-file.js'
