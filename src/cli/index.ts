#!/usr/bin/env node
// The `byol` command: train, eval, embed, export, preview-augmentations, doctor.
import * as doctorCmd from './doctor'
import * as embedCmd from './embed'
import * as evalCmd from './eval'
import * as exportCmd from './export'
import * as previewCmd from './preview'
import * as trainCmd from './train'
import { CommandSpec, helpText, parse, Parsed, UsageError } from './args'

interface Command {
  spec: CommandSpec
  run(p: Parsed): Promise<number>
}

const COMMANDS: Command[] = [trainCmd, evalCmd, embedCmd, exportCmd, previewCmd, doctorCmd]

function mainHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.spec.name.length)) + 2
  return [
    'byol: self-supervised image embeddings (BYOL on a ResNet-18) for Node.js',
    '',
    'Usage: byol <command> [options]',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.spec.name.padEnd(width)}${c.spec.summary}`),
    '',
    'Run `byol <command> --help` for the options of a command.',
    '',
  ].join('\n')
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(mainHelp())
    return name === undefined ? 1 : 0
  }
  if (name === '--version' || name === '-v') {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    process.stdout.write(`${require('../../../package.json').version}\n`)
    return 0
  }
  const command = COMMANDS.find((c) => c.spec.name === name)
  if (!command) {
    process.stderr.write(`byol: unknown command '${name}'\n\n${mainHelp()}`)
    return 2
  }
  try {
    const parsed = parse(command.spec, rest)
    if (parsed.help) {
      process.stdout.write(helpText(command.spec))
      return 0
    }
    return await command.run(parsed)
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`byol ${command.spec.name}: ${e.message}\nRun \`byol ${command.spec.name} --help\` for the options.\n`)
      return 2
    }
    process.stderr.write(`byol ${command.spec.name}: ${(e as Error).message}\n`)
    if (process.env.BYOL_DEBUG) process.stderr.write(`${(e as Error).stack}\n`)
    return 1
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code
    },
    (e) => {
      process.stderr.write(`byol: ${(e as Error).stack ?? e}\n`)
      process.exitCode = 1
    },
  )
}
