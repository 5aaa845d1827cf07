import { createRequire } from 'node:module'

// dist/src/version.js -> the package root holds package.json
export const VERSION: string = (createRequire(import.meta.url)('../../package.json') as { version: string }).version
export const PRODUCER = `backtory ${VERSION}`
