// The native handle behind a Byol model, for the modules of this package that call the addon
// directly (TypeScript's bracket access reaches the private field without widening the API).
import type { Byol } from './byol'
import type { Native } from './addon'

export function modelHandle(model: Byol): Native.ModelHandle {
  return model['handle']
}
