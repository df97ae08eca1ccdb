export * from '../dist/src/index.js'
import * as byol from '../dist/src/index.js'
export default byol
