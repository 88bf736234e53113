export * from './inputs.js'
export * from './report.js'
export * from './options.js'
export * from '../outputs/table.js'
