// The native addon, loaded through the package root's index.js (see there for the error a user
// gets when it cannot be found). This file compiles to dist/src/model, three levels below the root.
import path = require('path')
import type * as Native from './addon-api'

export type { Native }

// eslint-disable-next-line @typescript-eslint/no-var-requires
export const native: typeof Native = require(path.resolve(__dirname, '..', '..', '..', 'index.js'))
