// What a resumed run may change. A run continues with the configuration saved in its checkpoint;
// only `epochs` may grow. Any other option given again must agree with it, or the resumed run
// would silently train with settings the user did not ask for.
import type { ConfigOverrides, TrainConfig } from './presets'

const ALWAYS_ALLOWED = new Set(['epochs'])

/** Where each override lives in a TrainConfig (the rest sit at the same key). */
const PLACE: Record<string, string[]> = { lr: ['optimizer', 'lr'] }

/** The options given now that differ from the checkpoint's configuration, as `name: saved -> now`. */
export function resumeConflicts(saved: TrainConfig, overrides: ConfigOverrides): string[] {
  const conflicts: string[] = []
  const record = saved as unknown as Record<string, unknown>
  for (const [key, value] of Object.entries(overrides as Record<string, unknown>)) {
    if (value === undefined || ALWAYS_ALLOWED.has(key) || !(key in record || key in PLACE)) continue
    const place = PLACE[key] ?? [key]
    const stored = place.reduce<unknown>((at, k) => (at as Record<string, unknown> | undefined)?.[k], record)
    if (isPlainObject(value) && isPlainObject(stored)) {
      for (const [field, v] of Object.entries(value)) {
        if (v !== undefined && !same(stored[field], v)) conflicts.push(`${key}.${field}: ${show(stored[field])} -> ${show(v)}`)
      }
    } else if (!same(stored, value)) {
      conflicts.push(`${key}: ${show(stored)} -> ${show(value)}`)
    }
  }
  return conflicts
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b)
const show = (v: unknown) => (v === undefined ? 'unset' : JSON.stringify(v))
