export * from './inputs.js'
export * from './report.js'
