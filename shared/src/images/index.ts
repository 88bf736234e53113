export * from './image-ref.js'
export * from './image-file.js'
export * from './container-images.js'
