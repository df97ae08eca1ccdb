// ESM entry (`import { train } from 'byol'`): the CommonJS build re-exported, so that ESM and
// CommonJS users share one loaded addon. Node finds the names with its CommonJS export lexer.
export * from '../dist/src/index.js'
import byol from '../dist/src/index.js'
export default byol
