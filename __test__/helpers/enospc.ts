// Preloaded (`node --require`) by reliability.faults.test.ts: the disk "fills up" on the Nth file
// opened whose path contains $BYOL_TEST_ENOSPC_MATCH: its first write fails with ENOSPC, as a
// full disk fails it. Everything else is untouched.
import fs = require('fs')

const match = process.env.BYOL_TEST_ENOSPC_MATCH
const at = Number(process.env.BYOL_TEST_ENOSPC_AT ?? 1)
let opened = 0

if (match) {
  const open = fs.promises.open
  fs.promises.open = async function (...args: Parameters<typeof open>) {
    const handle = await open.apply(fs.promises, args)
    if (String(args[0]).includes(match) && ++opened === at) {
      handle.write = (async () => {
        throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28, syscall: 'write' })
      }) as typeof handle.write
    }
    return handle
  } as typeof open
}
