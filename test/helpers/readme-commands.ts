/** A command of a README `sh` block, with the comment that follows it on its line, if any. */
export interface ShellCommand {
  command: string
  comment: string
}

/** A `$ ` line of a README `console` block and the lines it printed there. */
export interface SessionStep {
  command: string
  output: string[]
}

function fences (markdown: string, languages: string[]): string[] {
  const blocks: string[] = []
  const pattern = /^```(\w*)\n([\s\S]*?)^```$/gm
  for (const match of markdown.matchAll(pattern)) if (languages.includes(match[1])) blocks.push(match[2])
  return blocks
}

/**
 * Splits shell text into logical commands: a command goes on while a quote is open or a line ends
 * with a backslash; `#` outside quotes (at a word start) starts a comment.
 */
export function splitShell (text: string): ShellCommand[] {
  const commands: ShellCommand[] = []
  let command = ''
  let comment = ''
  let quote: string | undefined
  let inComment = false
  for (let i = 0; i < text.length; i++) {
    const c = text[i]
    if (c === '\n') {
      if (quote !== undefined) {
        command += c
        continue
      }
      inComment = false
      if (command.endsWith('\\')) {
        command = command.slice(0, -1)
        continue
      }
      if (command.trim() !== '') commands.push({ command: command.trim(), comment: comment.trim() })
      command = ''
      comment = ''
      continue
    }
    if (inComment) {
      comment += c
      continue
    }
    if (quote !== undefined) {
      if (c === quote) quote = undefined
      command += c
      continue
    }
    if (c === '\'' || c === '"') quote = c
    if (c === '#' && (command === '' || /\s$/.test(command))) {
      inComment = true
      continue
    }
    command += c
  }
  if (command.trim() !== '') commands.push({ command: command.trim(), comment: comment.trim() })
  return commands
}

/** Every command of the README's `sh` blocks whose program is one of `programs`. */
export function shellCommands (markdown: string, programs: string[]): ShellCommand[] {
  return fences(markdown, ['sh', 'bash']).flatMap(splitShell).filter((c) => programs.includes(c.command.split(/\s+/)[0]))
}

/** The `$ ` commands of the README's `console` blocks, each with the output shown after it. */
export function consoleSessions (markdown: string): SessionStep[][] {
  return fences(markdown, ['console']).map((block) => {
    const steps: SessionStep[] = []
    for (const line of block.split('\n')) {
      if (line.startsWith('$ ')) steps.push({ command: splitShell(line.slice(2))[0].command, output: [] })
      else if (steps.length > 0 && line !== '') steps[steps.length - 1].output.push(line)
    }
    return steps
  })
}
