// Command-line parsing for the byol commands: node's util.parseArgs with typed option specs,
// generated --help text, and errors that name the option.
import { parseArgs } from 'util'

export interface OptionSpec {
  type: 'string' | 'boolean'
  short?: string
  /** Placeholder shown in help, e.g. `N` or `DIR`. */
  value?: string
  help: string
  default?: string
}

export interface CommandSpec {
  name: string
  summary: string
  usage: string
  options: Record<string, OptionSpec>
  /** Accepts positional arguments (described in usage). */
  positionals?: boolean
  examples?: string[]
}

export class UsageError extends Error {
  constructor(
    message: string,
    readonly command?: string,
  ) {
    super(message)
    this.name = 'UsageError'
  }
}

export function helpText(spec: CommandSpec): string {
  const rows = Object.entries({ ...spec.options, help: { type: 'boolean', short: 'h', help: 'show this help' } as OptionSpec }).map(([name, o]) => {
    const flag = `${o.short ? `-${o.short}, ` : '    '}--${name}${o.type === 'string' ? ` ${o.value ?? 'VALUE'}` : ''}`
    return [flag, o.help + (o.default !== undefined ? ` (default: ${o.default})` : '')]
  })
  const width = Math.max(...rows.map(([f]) => f.length)) + 2
  const lines = [`byol ${spec.name}: ${spec.summary}`, '', `Usage: ${spec.usage}`, '', 'Options:']
  for (const [flag, text] of rows) lines.push(`  ${flag.padEnd(width)}${text}`)
  if (spec.examples?.length) lines.push('', 'Examples:', ...spec.examples.map((e) => `  ${e}`))
  return lines.join('\n') + '\n'
}

export interface Parsed {
  values: Record<string, string | boolean | undefined>
  positionals: string[]
  help: boolean
  /** The arguments as given, for a command that starts itself again (the launcher). */
  argv: string[]
}

function parseTokens(spec: CommandSpec, argv: string[]) {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = { help: { type: 'boolean', short: 'h' } }
  for (const [name, o] of Object.entries(spec.options)) options[name] = { type: o.type, ...(o.short ? { short: o.short } : {}) }
  try {
    return parseArgs({ args: argv, options, allowPositionals: spec.positionals ?? false, strict: true, tokens: true })
  } catch (e) {
    throw new UsageError((e as Error).message.replace(/^TypeError \[[A-Z_]+\]: /, ''), spec.name)
  }
}

export function parse(spec: CommandSpec, argv: string[]): Parsed {
  const { values, positionals } = parseTokens(spec, argv)
  return { values: values as Parsed['values'], positionals, help: values.help === true, argv: [...argv] }
}

/** `argv` without the named options and their values, however they were written (`--x V` or `--x=V`). */
export function withoutOptions(spec: CommandSpec, argv: string[], names: string[]): string[] {
  const drop = new Set<number>()
  for (const token of parseTokens(spec, argv).tokens) {
    if (token.kind !== 'option' || !names.includes(token.name)) continue
    drop.add(token.index)
    if (token.value !== undefined && !token.inlineValue) drop.add(token.index + 1)
  }
  return argv.filter((_, i) => !drop.has(i))
}

/** A string option as an integer within bounds (undefined when absent). */
export function intOption(values: Parsed['values'], name: string, min = 0, max = Number.MAX_SAFE_INTEGER): number | undefined {
  const v = values[name]
  if (v === undefined) return undefined
  const x = Number(v)
  if (typeof v !== 'string' || !/^-?\d+$/.test(v.trim()) || x < min || x > max) {
    throw new UsageError(`--${name} must be an integer${max < Number.MAX_SAFE_INTEGER ? ` in [${min}, ${max}]` : ` >= ${min}`}, got '${v}'`)
  }
  return x
}

export function numberOption(values: Parsed['values'], name: string, min = -Infinity): number | undefined {
  const v = values[name]
  if (v === undefined) return undefined
  const x = Number(v)
  if (typeof v !== 'string' || v.trim() === '' || !Number.isFinite(x) || x < min)
    throw new UsageError(`--${name} must be a number${min > -Infinity ? ` >= ${min}` : ''}, got '${v}'`)
  return x
}

export function stringOption(values: Parsed['values'], name: string): string | undefined {
  const v = values[name]
  return typeof v === 'string' ? v : undefined
}

export function choiceOption<T extends string>(values: Parsed['values'], name: string, choices: readonly T[]): T | undefined {
  const v = stringOption(values, name)
  if (v === undefined) return undefined
  if (!choices.includes(v as T)) throw new UsageError(`--${name} must be one of ${choices.join(', ')}, got '${v}'`)
  return v as T
}
